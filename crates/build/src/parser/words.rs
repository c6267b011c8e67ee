//! Splitting an instruction line: the keyword, the `--flags` before the
//! arguments, and words that keep their quotes (for `name=value` lists).

/// `KEYWORD rest`: the keyword as written and the rest, trimmed.
pub fn split_keyword(line: &str) -> (&str, &str) {
    let line = line.trim();
    match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], line[i..].trim_start()),
        None => (line, ""),
    }
}

/// Takes the leading words that start with `--` off `rest`: returns them
/// (quotes removed, `\` escapes applied) and the text after them. A lone
/// `--` ends the flags and is dropped.
pub fn extract_flags(rest: &str) -> (Vec<String>, &str) {
    let chars: Vec<(usize, char)> = rest.char_indices().collect();
    let mut flags = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].1.is_whitespace() {
            i += 1;
        }
        let at = |k: usize| chars.get(k).map(|c| c.1);
        if at(i) != Some('-') || at(i + 1) != Some('-') {
            let offset = chars.get(i).map_or(rest.len(), |c| c.0);
            return (flags, &rest[offset..]);
        }
        let (word, next) = flag_word(&chars, i);
        i = next;
        if word == "--" {
            let offset = chars.get(i).map_or(rest.len(), |c| c.0);
            return (flags, rest[offset..].trim_start());
        }
        flags.push(word);
    }
}

/// One flag word from `start`: up to unquoted whitespace.
fn flag_word(chars: &[(usize, char)], start: usize) -> (String, usize) {
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut i = start;
    while i < chars.len() {
        let c = chars[i].1;
        i += 1;
        match quote {
            None if c.is_whitespace() => break,
            None if c == '\'' || c == '"' => quote = Some(c),
            Some(q) if c == q => quote = None,
            _ if c == '\\' => {
                if let Some(&(_, n)) = chars.get(i) {
                    word.push(n);
                    i += 1;
                }
            }
            _ => word.push(c),
        }
    }
    (word, i)
}

/// Splits on whitespace outside quotes, keeping quotes and escapes in the
/// words (they are removed later, during expansion). Inside single quotes
/// the escape character is literal.
pub fn raw_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if quote.is_none() && c.is_whitespace() {
            if in_word {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            continue;
        }
        in_word = true;
        word.push(c);
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '\'' || c == '"' => quote = Some(c),
            q if c == escape && q != Some('\'') => word.extend(chars.next()),
            _ => {}
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The JSON array form: `Some(Ok(words))` for an array of strings,
/// `Some(Err)` for an array with other values (an error, as in Docker),
/// `None` when the text is not a JSON array (shell form).
pub fn json_array(text: &str) -> Option<Result<Vec<String>, String>> {
    let text = text.trim();
    if !text.starts_with('[') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let items = value.as_array()?;
    let strings: Option<Vec<String>> = items
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect();
    Some(strings.ok_or_else(|| {
        "when using JSON array syntax, arrays must be comprised of strings only".to_string()
    }))
}
