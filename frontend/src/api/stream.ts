// The cluster stream: one websocket, acknowledged frames, and a resume from the last
// revision the store applied after every disconnect (the server sends exactly what was missed,
// or a fresh snapshot when that revision was compacted away).

import type { Frame, Message } from "./types";

export type StreamStatus = "connecting" | "open" | "closed" | "gone";

export interface StreamOptions {
  /** Absolute ws:// or wss:// URL of the cluster's stream, without a query. */
  url: string;
  /** The revision to resume from, or null for a fresh snapshot. Asked at every (re)connect. */
  since: () => number | null;
  onMessages: (messages: Message[]) => void;
  onStatus?: (status: StreamStatus) => void;
  /** Injected for tests. */
  socket?: (url: string) => WebSocket;
  setTimer?: (fn: () => void, ms: number) => unknown;
}

export interface StreamHandle {
  close(): void;
}

/** The websocket close code the server uses when the cluster no longer exists. */
export const CLOSE_NO_CLUSTER = 4404;

export function streamUrl(location: Location, cluster: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/clusters/${encodeURIComponent(cluster)}/`;
}

export function connect(opts: StreamOptions): StreamHandle {
  const open = opts.socket ?? ((url: string) => new WebSocket(url));
  const later = opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  let closed = false;
  let delay = 250;
  let ws: WebSocket | null = null;

  const start = () => {
    if (closed) return;
    const since = opts.since();
    const url = since === null ? opts.url : `${opts.url}?since=${since}`;
    opts.onStatus?.("connecting");
    ws = open(url);
    ws.onopen = () => {
      delay = 250;
      opts.onStatus?.("open");
    };
    ws.onmessage = (ev: MessageEvent) => {
      const frame = JSON.parse(String(ev.data)) as Frame;
      opts.onMessages(frame.messages);
      ws?.send(JSON.stringify({ ack: frame.seq }));
    };
    ws.onclose = (ev: CloseEvent) => {
      ws = null;
      if (closed) return;
      if (ev.code === CLOSE_NO_CLUSTER) {
        opts.onStatus?.("gone");
        return;
      }
      opts.onStatus?.("closed");
      later(start, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  start();
  return {
    close() {
      closed = true;
      ws?.close();
    },
  };
}
