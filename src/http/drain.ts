// Graceful stop for an HTTP/1.1 server with keep-alive clients.
//
// Node's server.close() stops accepting but keeps serving busy keep-alive
// connections for as long as their clients keep sending, so a steady client
// held a stop until its timeout; and it destroys idle connections at once,
// including one whose client has just sent its next request (already in the
// socket buffer, or a millisecond away), which that client sees as a
// connection reset. Instead, once draining:
//   - the listening socket closes (new connections are refused);
//   - every response not yet started carries `Connection: close`, so Node
//     closes its connection right after it and the client opens no new request on it;
//   - a connection closes once it has had no request in progress and received
//     no bytes for IDLE_GRACE_MS: at once when it was idle that long already,
//     otherwise any request its client was about to send gets its answer first.
import type http from "node:http";
import type { Socket } from "node:net";
import net from "node:net";

/**
 * How long a connection must have been quiet before a stop closes it. Longer
 * than a busy client needs between reading one response and its next request
 * arriving (a round trip plus its own work), far shorter than any stop timeout.
 */
const IDLE_GRACE_MS = 500;
const CHECK_EVERY_MS = 50;

interface Conn {
  /** Requests received and not yet answered (more than one when pipelined). */
  inFlight: number;
  /** When the connection last had a request end or bytes arrive. */
  quietSince: number;
  /** socket.bytesRead as of quietSince: growth since means a request is arriving. */
  bytesRead: number;
}

export interface Drainer {
  /** Connections open now. */
  readonly open: number;
  /**
   * Stops accepting and closes connections as they become idle; resolves true
   * once all are closed, false if `timeoutMs` passed first (connections then
   * still open are left to the caller: closeAll()).
   */
  drain(timeoutMs: number): Promise<boolean>;
  /** Destroys every connection still open. */
  closeAll(): void;
}

export function drainable(server: http.Server, now: () => number = Date.now): Drainer {
  const conns = new Map<Socket, Conn>();
  const pending = new Set<http.ServerResponse>();
  let draining = false;
  let onEmpty: (() => void) | undefined;

  server.on("connection", (socket: Socket) => {
    conns.set(socket, { inFlight: 0, quietSince: now(), bytesRead: 0 });
    socket.once("close", () => {
      conns.delete(socket);
      if (draining && conns.size === 0) onEmpty?.();
    });
  });

  // Runs before the app's own request listener.
  server.prependListener("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const c = conns.get(req.socket);
    if (c) c.inFlight += 1;
    if (draining) res.setHeader("Connection", "close");
    else pending.add(res);
    res.once("close", () => {
      pending.delete(res);
      if (c) {
        c.inFlight -= 1;
        c.quietSince = now();
        c.bytesRead = req.socket.bytesRead;
      }
    });
  });

  function closeQuiet() {
    const t = now();
    for (const [socket, c] of conns) {
      if (c.inFlight > 0) continue;
      if (socket.bytesRead !== c.bytesRead) {
        // Part of a request has arrived: not idle.
        c.bytesRead = socket.bytesRead;
        c.quietSince = t;
        continue;
      }
      if (t - c.quietSince >= IDLE_GRACE_MS) socket.destroy();
    }
  }

  return {
    get open() {
      return conns.size;
    },
    drain(timeoutMs) {
      draining = true;
      for (const res of pending) {
        if (!res.headersSent) res.setHeader("Connection", "close");
      }
      pending.clear();
      // net.Server's close, not http.Server's: the latter also destroys every
      // idle connection at once (see above). It only stops listening here.
      net.Server.prototype.close.call(server);
      return new Promise<boolean>((resolve) => {
        const check = setInterval(closeQuiet, CHECK_EVERY_MS);
        const timer = setTimeout(() => finish(false), timeoutMs);
        function finish(drained: boolean) {
          clearInterval(check);
          clearTimeout(timer);
          onEmpty = undefined;
          resolve(drained);
        }
        onEmpty = () => finish(true);
        closeQuiet();
        if (conns.size === 0) finish(true);
      });
    },
    closeAll() {
      for (const socket of conns.keys()) socket.destroy();
    },
  };
}
