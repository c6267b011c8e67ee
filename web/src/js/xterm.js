// xterm.js and its fit addon, in their own chunk: loaded on the first
// terminal, so that the lists come up without them.
export { Terminal } from '@xterm/xterm';
export { FitAddon } from '@xterm/addon-fit';
