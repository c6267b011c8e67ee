// The login page works without this script; it only shows why the last
// attempt failed and carries ?next= into the form.
const q = new URLSearchParams(location.search);
const msg = document.getElementById('login-error');
if (q.get('limited') === '1') msg.textContent = 'Too many attempts, try again later';
else if (q.get('failed') === '1') msg.textContent = 'Invalid username or password';
if (msg.textContent) msg.hidden = false;
const next = q.get('next');
if (next && next.startsWith('/') && !next.startsWith('//')) document.getElementById('next').value = next;
document.getElementById('username').focus();
document.body.dataset.ready = '1';
performance.mark('yurta-ready');
