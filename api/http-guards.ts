/**
 * Guards at the HTTP edge that Fastify's routing never sees or would get wrong: errors Node's HTTP parser
 * raises before a request exists (oversized headers, timeouts, malformed requests), answered as problems
 * like every other error; and request bodies in a character set the API does not decode.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Problem } from './problem.ts';

const PARSER_PROBLEMS: Record<string, () => Problem> = {
  HPE_HEADER_OVERFLOW: () =>
    new Problem(
      431,
      '请求头过大',
      '请求头超过服务器允许的大小，请缩短请求头（如 Authorization、Cookie）后重试',
    ),
  ERR_HTTP_REQUEST_TIMEOUT: () => new Problem(408, '请求超时', '请求未能在时限内发送完毕，请重试'),
};

/**
 * Fastify's `clientErrorHandler`: the socket has no request or reply, so the answer is written by hand;
 * the connection is closed afterwards, as Node does.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    PARSER_PROBLEMS[err.code ?? '']?.() ?? new Problem(400, '请求有误', '请求格式有误，服务器无法解析');
  if (socket.writable) {
    const body = JSON.stringify(problem.body());
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(err);
}

/**
 * A 415 for a body declared in a charset other than UTF-8: the JSON parser reads bytes as UTF-8, so a
 * UTF-16 body would be misread (or stored garbled) rather than refused. No charset means UTF-8.
 */
export function unsupportedCharset(contentType: string | undefined): Problem | undefined {
  if (!contentType) return undefined;
  const param = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType);
  if (!param) return undefined;
  const charset = (param[2] ?? '').toLowerCase();
  if (charset === 'utf-8' || charset === 'utf8') return undefined;
  return new Problem(
    415,
    '不支持的字符编码',
    `只接受 UTF-8 编码的请求内容，不支持 charset=${charset.slice(0, 40)}`,
    [{ pointer: '/headers/content-type', detail: '字符编码须为 utf-8' }],
  );
}
