/**
 * Tiny real servers on loopback for the notifier tests: a minimal SMTP server (enough of RFC 5321 for
 * nodemailer) and an HTTP server that records webhook calls. Test-only; not part of the package API.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message (headers and body) as sent after DATA. */
  data: string;
}

export interface SmtpTestServer {
  port: number;
  messages: ReceivedMail[];
  /** Answers the next `n` RCPT commands with a temporary failure (451). */
  failNextRecipients(n: number): void;
  close(): Promise<void>;
}

export async function startSmtpServer(): Promise<SmtpTestServer> {
  const messages: ReceivedMail[] = [];
  let failures = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setEncoding('utf8');
    socket.write('220 localhost ESMTP auditkit-test\r\n');
    let buffer = '';
    let inData = false;
    let from = '';
    let to: string[] = [];
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) return;
          messages.push({ from, to, data: buffer.slice(0, end) });
          buffer = buffer.slice(end + 5);
          inData = false;
          socket.write('250 OK queued\r\n');
          continue;
        }
        const newline = buffer.indexOf('\r\n');
        if (newline === -1) return;
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        const verb = line.split(' ')[0]?.toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-localhost\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') {
          from = line.slice(10).replace(/[<>]/g, '').split(' ')[0] ?? '';
          to = [];
          socket.write('250 OK\r\n');
        } else if (verb === 'RCPT') {
          if (failures > 0) {
            failures -= 1;
            socket.write('451 4.3.0 try again later\r\n');
          } else {
            to.push(line.slice(8).replace(/[<>]/g, '').split(' ')[0] ?? '');
            socket.write('250 OK\r\n');
          }
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'QUIT') socket.end('221 Bye\r\n');
        else if (verb === 'RSET' || verb === 'NOOP') socket.write('250 OK\r\n');
        else socket.write('502 5.5.2 not implemented\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    messages,
    failNextRecipients: (n) => {
      failures = n;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ReceivedHook {
  headers: IncomingMessage['headers'];
  body: string;
}

export interface WebhookTestServer {
  url: string;
  received: ReceivedHook[];
  /** Status codes to answer the next calls with, in order (then 204). */
  answers: number[];
  close(): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookTestServer> {
  const received: ReceivedHook[] = [];
  const answers: number[] = [];
  const server = createHttpServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ headers: req.headers, body });
    res.statusCode = answers.shift() ?? 204;
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`,
    received,
    answers,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
