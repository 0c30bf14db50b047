/**
 * Attachments through the API: PDF, OFD, JPEG and PNG recognised by content (not by name), 10 MB at most,
 * stored with their SHA-256; downloads for the uploader's unit before a response cites the file and for
 * the case's units after; everyone else gets 404; every download is audited. Real dev server and DB.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffMediaType } from '../../api/services/attachment-files.ts';
import { auditLog } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

/** A stored (uncompressed) ZIP archive with the given entries. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const data = Buffer.from(text);
    const fileName = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(64, 1),
]);
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  Buffer.alloc(64, 2),
  Buffer.from([0xff, 0xd9]),
]);
const OFD = zip({
  'OFD.xml': '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>',
  'Doc_0/Document.xml': '<x/>',
});
const PLAIN_ZIP = zip({ 'readme.txt': 'hello' });

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('content sniffing', () => {
  it('recognises the four formats by their bytes and nothing else', () => {
    expect(sniffMediaType(PDF)).toBe('application/pdf');
    expect(sniffMediaType(PNG)).toBe('image/png');
    expect(sniffMediaType(JPEG)).toBe('image/jpeg');
    expect(sniffMediaType(OFD)).toBe('application/ofd');
    expect(sniffMediaType(PLAIN_ZIP)).toBeUndefined();
    expect(sniffMediaType(Buffer.from('<html><script>alert(1)</script></html>'))).toBeUndefined();
    expect(sniffMediaType(Buffer.from('%PDF'))).toBeUndefined();
    // A truncated ZIP must not throw.
    expect(sniffMediaType(OFD.subarray(0, OFD.length - 30))).toBeUndefined();
  });
});

describe.each(databaseTargets())('attachments through the API on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    for (const u of ['req-a', 'req-b', 'iss-a', 'iss-a2', 'iss-b', 'admin']) auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
  });

  const upload = (
    who: string,
    body: Buffer | string,
    fileName = '户籍证明.pdf',
    type = 'application/octet-stream',
  ) =>
    h.app.inject({
      method: 'POST',
      url: `/api/v1/attachments?filename=${encodeURIComponent(fileName)}`,
      headers: { authorization: auth[who] ?? '', 'content-type': type },
      payload: body,
    });
  const download = (who: string, id: string) =>
    h.app.inject({ url: `/api/v1/attachments/${id}`, headers: { authorization: auth[who] ?? '' } });

  it('stores the four formats with their SHA-256, whatever the name or declared type says', async () => {
    for (const [bytes, type, declared] of [
      [PDF, 'application/pdf', 'application/pdf'],
      [PNG, 'image/png', 'application/octet-stream'],
      [JPEG, 'image/jpeg', 'image/png'],
      [OFD, 'application/ofd', 'application/ofd'],
    ] as const) {
      const res = await upload('iss-a', bytes, 'scan.bin', declared);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({
        mediaType: type,
        sizeBytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        caseId: null,
        fileName: 'scan.bin',
      });
    }
  });

  it('refuses other content (415), oversized files (413), a missing name (400) and staff who do not handle cases', async () => {
    for (const [body, type] of [
      [Buffer.from('<html>not a pdf</html>'), 'application/pdf'],
      [PLAIN_ZIP, 'application/ofd'],
      [JSON.stringify({ a: 1 }), 'application/json'],
      [Buffer.alloc(0), 'application/pdf'],
    ] as const) {
      const res = await upload('iss-a', body, 'x.pdf', type);
      expect(res.statusCode, res.body).toBe(415);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().detail).toContain('PDF、OFD、JPEG 或 PNG');
    }
    const big = await upload('iss-a', Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024)]));
    expect(big.statusCode).toBe(413);
    expect(big.json().detail).toContain('10 MB');
    // Up to the limit is fine.
    const edge = await upload('iss-a', Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024 - PDF.length)]));
    expect(edge.statusCode, edge.body).toBe(201);

    const noName = await h.app.inject({
      method: 'POST',
      url: '/api/v1/attachments',
      headers: { authorization: auth['iss-a'] ?? '', 'content-type': 'application/pdf' },
      payload: PDF,
    });
    expect(noName.statusCode).toBe(400);
    expect(noName.json().errors[0].pointer).toBe('/querystring/filename');
    expect((await upload('iss-a', PDF, '../../etc/passwd')).statusCode).toBe(400);
    expect((await upload('admin', PDF)).statusCode).toBe(403);
    const anonymous = await h.app.inject({
      method: 'POST',
      url: '/api/v1/attachments?filename=a.pdf',
      headers: { 'content-type': 'application/pdf' },
      payload: PDF,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('lets the uploader’s unit download before a response cites the file, and the case’s units after; audited', async () => {
    const up = await upload('iss-a', PDF, '户籍登记 页1.pdf');
    const att = up.json();
    const own = await download('iss-a2', att.id);
    expect(own.statusCode, own.body).toBe(200);
    expect(own.headers['content-type']).toBe('application/pdf');
    expect(own.rawPayload.equals(PDF)).toBe(true);
    expect(own.headers['content-disposition']).toContain(
      `filename*=UTF-8''${encodeURIComponent('户籍登记 页1.pdf')}`,
    );
    expect(own.headers['repr-digest']).toBe(`sha-256=:${createHash('sha256').update(PDF).digest('base64')}:`);
    expect(own.headers['x-content-type-options']).toBe('nosniff');
    expect((await download('req-a', att.id)).statusCode).toBe(404);

    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `${target.name}-attach-0001` },
      payload: startBody(),
    });
    const caseId = started.json().id;
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: `/api/v1/verifications/${caseId}/register`,
          headers: { authorization: auth['iss-a'] ?? '' },
          payload: {},
        })
      ).statusCode,
    ).toBe(200);
    // Another unit's file cannot be cited.
    const foreign = (await upload('iss-b', PNG)).json();
    const respond = (ids: string[]) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/verifications/${caseId}/respond`,
        headers: { authorization: auth['iss-a'] ?? '' },
        payload: { result: 'consistent', fields: { registeredAddress: '淄博市张店区' }, attachments: ids },
      });
    expect((await respond([att.id, foreign.id])).statusCode).toBe(422);
    const answered = await respond([att.id]);
    expect(answered.statusCode, answered.body).toBe(200);

    const requester = await download('req-a', att.id);
    expect(requester.statusCode).toBe(200);
    expect(requester.rawPayload.equals(PDF)).toBe(true);
    for (const who of ['req-b', 'iss-b', 'admin']) expect((await download(who, att.id)).statusCode).toBe(404);
    expect((await download('req-a', 'att-does-not-exist')).statusCode).toBe(404);

    const audits = await h.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'attachment.download'));
    const forCase = audits.filter((a) => a.caseId === caseId);
    expect(forCase.map((a) => `${a.actorId}:${a.outcome}`)).toEqual([
      'stf-req-a:allowed',
      'stf-req-b:denied',
      'stf-iss-b:denied',
      'stf-admin:denied',
    ]);
    expect(forCase[0]?.purpose).toBe(startBody().purpose);
    expect(
      audits.some((a) => a.actorId === 'stf-iss-a2' && a.outcome === 'allowed' && a.caseId === null),
    ).toBe(true);
    // The file name may name the subject: it is not in the audit log.
    const uploads = await h.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'attachment.upload'));
    expect(uploads.length).toBeGreaterThanOrEqual(6);
    expect(JSON.stringify(uploads)).not.toContain('户籍登记');
  });

  it('refuses to cite a file already bound to another case (422 naming the field), and never lists what cannot be opened', async () => {
    const startCase = async (key: string) => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/verifications',
        headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `${target.name}-${key}` },
        payload: startBody(),
      });
      const id = res.json().id as string;
      await h.app.inject({
        method: 'POST',
        url: `/api/v1/verifications/${id}/register`,
        headers: { authorization: auth['iss-a'] ?? '' },
        payload: {},
      });
      return id;
    };
    const respond = (caseId: string, ids: string[]) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/verifications/${caseId}/respond`,
        headers: { authorization: auth['iss-a'] ?? '' },
        payload: { result: 'consistent', fields: { registeredAddress: '淄博市张店区' }, attachments: ids },
      });
    const c1 = await startCase('cite-c1');
    const c2 = await startCase('cite-c2');
    const cited = (await upload('iss-a', PDF, 'c1.pdf')).json();
    expect((await respond(c1, [cited.id])).statusCode).toBe(200);

    const fresh = (await upload('iss-a', PNG, 'c2.png')).json();
    const reused = await respond(c2, [fresh.id, cited.id]);
    expect(reused.statusCode, reused.body).toBe(422);
    expect(reused.headers['content-type']).toContain('application/problem+json');
    expect(reused.json().errors).toEqual([{ pointer: '/body/attachments/1', detail: expect.any(String) }]);
    // The refused answer bound nothing: the fresh file is still free, the cited one still C1's.
    const own = await download('iss-a', fresh.id);
    expect(own.statusCode).toBe(200);
    expect((await download('req-a', fresh.id)).statusCode).toBe(404);

    const ok = await respond(c2, [fresh.id]);
    expect(ok.statusCode, ok.body).toBe(200);
    const detail = (
      await h.app.inject({
        url: `/api/v1/verifications/${c2}`,
        headers: { authorization: auth['req-a'] ?? '' },
      })
    ).json();
    expect(detail.answer.attachments).toEqual([fresh.id]);
    // Everything the answer lists, its requesting unit can open.
    for (const id of detail.answer.attachments) expect((await download('req-a', id)).statusCode).toBe(200);
  });
});
