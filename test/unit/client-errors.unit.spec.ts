import { clientErrorProblem, type ClientError } from '../../src/shared/http/client-errors.js';

const LIMIT = 16_384;
const error = (code: string, reason?: string, rawPacket?: Buffer): ClientError =>
  Object.assign(new Error(reason ?? code), { code, reason, rawPacket });

describe("Node's client errors become problems", () => {
  it('a header overflow is 431, or 414 when the request line itself is what overflowed', () => {
    const longUrl = Buffer.from(`GET /carts?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n`);
    const longHeader = Buffer.from(`GET /carts HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n`);
    const unfinishedUrl = Buffer.from(`GET /carts?${'a'.repeat(20_000)}`);
    const laterChunk = Buffer.from('a'.repeat(20_000));
    expect(clientErrorProblem(error('HPE_HEADER_OVERFLOW', 'x', longUrl), LIMIT)).toMatchObject({
      status: 414,
      code: 'URI_TOO_LONG',
    });
    expect(clientErrorProblem(error('HPE_HEADER_OVERFLOW', 'x', unfinishedUrl), LIMIT)).toMatchObject({
      status: 414,
    });
    expect(clientErrorProblem(error('HPE_HEADER_OVERFLOW', 'x', longHeader), LIMIT)).toMatchObject({
      status: 431,
      code: 'HEADERS_TOO_LARGE',
    });
    // A chunk from the middle of the headers cannot be told apart: the general answer.
    expect(clientErrorProblem(error('HPE_HEADER_OVERFLOW', 'x', laterChunk), LIMIT)).toMatchObject({
      status: 431,
    });
    expect(clientErrorProblem(error('HPE_HEADER_OVERFLOW'), LIMIT)).toMatchObject({ status: 431 });
  });

  it.each([
    ['HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length"],
    ['HPE_INVALID_CONTENT_LENGTH', "Content-Length can't be present with Transfer-Encoding"],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length'],
    ['HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size'],
  ])('%s (framing) is 400 BAD_FRAMING, with the parser’s reason', (code, reason) => {
    const body = clientErrorProblem(error(code, reason), LIMIT);
    expect(body).toMatchObject({ status: 400, code: 'BAD_FRAMING', title: 'Bad Request' });
    expect(body.detail).toContain(reason);
  });

  it('any other parse error is 400 MALFORMED_REQUEST; a timeout 408; nothing but fixed reasons is echoed', () => {
    expect(
      clientErrorProblem(error('HPE_INVALID_METHOD', 'Invalid method encountered'), LIMIT),
    ).toMatchObject({
      status: 400,
      code: 'MALFORMED_REQUEST',
      detail: 'The request is not valid HTTP/1.1: Invalid method encountered',
    });
    expect(clientErrorProblem(error('ERR_HTTP_REQUEST_TIMEOUT'), LIMIT)).toMatchObject({ status: 408 });
    const odd = clientErrorProblem(error('HPE_STRICT', 'at /home/me/app.js:1:1\nline two'), LIMIT);
    expect(odd.detail).not.toContain('/home/me');
  });
});
