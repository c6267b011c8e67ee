// noVNC in its own chunk: only VM screens load it.
export { default as RFB } from '@novnc/novnc';
