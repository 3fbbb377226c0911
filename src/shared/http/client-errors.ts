import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, problem, type ProblemDetails } from './problem.js';

/** What Node's HTTP parser attaches to the errors it emits as `clientError`. */
export interface ClientError extends Error {
  code?: string;
  /** llhttp's own words, e.g. "Content-Length can't be present with Transfer-Encoding". */
  reason?: string;
  /** The bytes being parsed when the error happened (the chunk, not necessarily the whole request). */
  rawPacket?: unknown;
}

const REQUEST_LINE_START = /^[A-Z]+ /;

/**
 * Whether a header overflow is the request line's fault (a URL too long): the chunk that overflowed starts a
 * request line that does not end in it, or ends only after more than half the limit. Node counts the request
 * line and the headers together, so this is as far as it can be told.
 */
function requestLineTooLong(rawPacket: unknown, maxHeaderSize: number): boolean {
  if (!Buffer.isBuffer(rawPacket)) return false;
  const head = rawPacket.subarray(0, 16).toString('latin1');
  if (!REQUEST_LINE_START.test(head)) return false;
  const end = rawPacket.indexOf('\r\n');
  return end === -1 || end > maxHeaderSize / 2;
}

/**
 * The problem for an error Node's HTTP parser raised before any route could answer: headers too large (431), a
 * request line too long (414), a request that took too long to arrive (408), and malformed framing or syntax
 * (400). Never a stack trace: only llhttp's fixed reason.
 */
export function clientErrorProblem(error: ClientError, maxHeaderSize: number): ProblemDetails {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return requestLineTooLong(error.rawPacket, maxHeaderSize)
        ? problem(
            414,
            'URI_TOO_LONG',
            `The URL is longer than the server accepts (${maxHeaderSize} bytes with the headers)`,
          )
        : problem(
            431,
            'HEADERS_TOO_LARGE',
            `The request line and headers together are larger than the server accepts (${maxHeaderSize} bytes)`,
          );
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return problem(
        413,
        'BODY_TOO_LARGE',
        'The chunk extensions of the body are larger than the server accepts',
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problem(408, 'REQUEST_TIMEOUT', 'The request did not arrive in time');
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_EOF_STATE':
      // Content-Length with chunked, two Content-Lengths, a bad number or chunk: where the body ends is unknown.
      return problem(
        400,
        'BAD_FRAMING',
        `Where the body ends is unclear (${reasonOf(error)}): send one Content-Length, or Transfer-Encoding: chunked alone`,
      );
    default:
      return problem(400, 'MALFORMED_REQUEST', `The request is not valid HTTP/1.1: ${reasonOf(error)}`);
  }
}

function reasonOf(error: ClientError): string {
  // llhttp's reasons are fixed sentences; anything else is not echoed.
  return typeof error.reason === 'string' && /^[\x20-\x7e]{1,200}$/.test(error.reason)
    ? error.reason
    : 'malformed request';
}

function serialise(body: ProblemDetails): string {
  const json = JSON.stringify(body);
  return (
    `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status] ?? 'Error'}\r\n` +
    `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(json)}\r\n` +
    'Connection: close\r\n\r\n' +
    json
  );
}

/**
 * Fastify's `clientErrorHandler`: answers what Node's parser refused as problem+json (Fastify's default writes
 * a JSON shape of its own). As Node itself does, it writes only when no answer is under way on the socket (its
 * bytes would corrupt it), then closes the connection: after a framing error, nothing more on it can be
 * trusted.
 */
export function answerClientError(maxHeaderSize: number) {
  return function clientErrorHandler(error: ClientError, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (socket.writable && (!inFlight || !inFlight.headersSent)) {
      socket.write(serialise(clientErrorProblem(error, maxHeaderSize)));
    }
    socket.destroy(error);
  };
}

/**
 * `Expect` values other than `100-continue`: Node answers a bare 417 unless the server listens for them.
 */
export function answerUnmetExpectations(server: Server): void {
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const body = problem(417, 'EXPECTATION_FAILED', 'The only Expect this server meets is 100-continue');
    body.instance = request.url;
    const json = JSON.stringify(body);
    response.writeHead(417, {
      'content-type': PROBLEM_CONTENT_TYPE,
      'content-length': Buffer.byteLength(json),
      connection: 'close',
    });
    response.end(json);
  });
}
