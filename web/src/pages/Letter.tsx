/**
 * The request letter (协查函) and the response letter (反馈函) of a case as formal printable pages:
 * issuing body in red, document number, addressee, body text, the fields with their template titles,
 * signature and date. The print stylesheet leaves only the letter (PDF by the browser's print).
 */
import { PrinterOutlined } from '@ant-design/icons';
import { Button, Space, Spin } from 'antd';
import { currentSession } from '../api.ts';
import { BackButton, fieldRows, ProblemAlert } from '../components.tsx';
import { useApi, useUnits } from '../data.ts';
import { t } from '../i18n.ts';
import { resultLabel, tierLabel } from '../labels.ts';
import { durationText, fmtCn, fmtDateCn } from '../time.ts';
import type { CaseDetail, JsonObject } from '../types.ts';

/** The fields as a letter prints them: dates in the letter's own format (fmtCn / fmtDateCn). */
function rowsOf(schema: JsonObject | undefined, data: JsonObject | null): [string, string][] {
  return fieldRows(schema, data, 'letter');
}

export function LetterPage({ id, kind }: { id: string; kind: 'request' | 'response' }) {
  const session = currentSession();
  const purpose = sessionStorage.getItem(`xiecha.purpose.${id}`) ?? undefined;
  const { data, error, loading } = useApi<CaseDetail>(
    `/api/v1/verifications/${encodeURIComponent(id)}`,
    session?.staff.role === 'supervisor' ? { purpose: purpose ?? '打印协查文书' } : undefined,
  );
  const units = useUnits();
  const back = `/cases/${encodeURIComponent(id)}`;

  const toolbar = (
    <div className="letter-toolbar no-print">
      <Space wrap>
        <Button type="primary" icon={<PrinterOutlined />} onClick={() => window.print()}>
          {t('打印 / 另存为 PDF')}
        </Button>
        <BackButton to={back} />
      </Space>
    </div>
  );

  if (loading && !data) return <Spin style={{ margin: 48 }} />;
  if (!data)
    return (
      <div style={{ padding: 24 }}>
        {toolbar}
        <ProblemAlert error={error} />
      </div>
    );

  const c = data.case;
  const who = data.content?.subject;
  const subject = who
    ? `${who.name}（${who.kind === 'company' ? '统一社会信用代码' : '公民身份号码'} ${who.idNumber}）`
    : c.subject;
  const created = data.timeline.find((e) => e.type === 'created');
  const answered = [...data.timeline].reverse().find((e) => e.type === 'answered');
  const registered = [...data.timeline].reverse().find((e) => e.type === 'registered');
  const from = kind === 'request' ? c.requestingUnit : c.issuingUnit;
  const to = kind === 'request' ? c.issuingUnit : c.requestingUnit;

  const request = (
    <>
      <h1 className="letter-title">协 查 函</h1>
      <div className="letter-docno" data-testid="letter-docno">
        {c.docNumber}
      </div>
      <p className="letter-to">{units.name(to)}：</p>
      <p className="letter-para">
        根据《淄博市证明事项核验实施办法（试行）》，我单位在办理“{c.purpose}”事项中，需核验申请人的
        {`“${c.catalogName ?? c.catalogCode}”`}信息。现请贵单位协助核验以下内容，并于{' '}
        <strong>{fmtCn(c.dueAt)}</strong>
        {` 前（${tierLabel(c.tier)}）通过协查核验系统反馈。`}
      </p>
      <table className="letter-table">
        <tbody>
          <tr>
            <th>核验对象</th>
            <td>{subject}</td>
          </tr>
          <tr>
            <th>证明事项</th>
            <td>{c.catalogName ?? c.catalogCode}</td>
          </tr>
          <tr>
            <th>用途</th>
            <td>{c.purpose}</td>
          </tr>
          {rowsOf(data.templates?.request, data.content?.fields ?? null).map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
          <tr>
            <th>发函时间</th>
            <td>{fmtCn(c.receivedAt)}</td>
          </tr>
          <tr>
            <th>办理时限</th>
            <td>
              {fmtCn(c.dueAt)}（{tierLabel(c.tier)}）
            </td>
          </tr>
        </tbody>
      </table>
      <p className="letter-para">核验信息仅限用于上述用途，不得用于其他目的（第十二条）。</p>
      <div className="letter-sign">
        <div>{units.name(from)}</div>
        <div>{fmtDateCn(c.receivedAt)}</div>
      </div>
      <p className="letter-contact">经办人：{created?.actorName ?? '—'}</p>
    </>
  );

  const response = (
    <>
      <h1 className="letter-title">反 馈 函</h1>
      <div className="letter-docno" data-testid="letter-docno">
        {data.replyNumber ?? `关于 ${c.docNumber} 的反馈`}
      </div>
      <p className="letter-to">{units.name(to)}：</p>
      <p className="letter-para">
        贵单位协查函（{c.docNumber}）收悉，我单位已于 {fmtCn(registered?.at ?? c.registeredAt)}{' '}
        登记受理。经核验，结果为“<strong data-testid="letter-result">{resultLabel(c.result)}</strong>
        ”，具体如下：
      </p>
      <table className="letter-table">
        <tbody>
          <tr>
            <th>核验对象</th>
            <td>{subject}</td>
          </tr>
          <tr>
            <th>证明事项</th>
            <td>{c.catalogName ?? c.catalogCode}</td>
          </tr>
          <tr>
            <th>核验结果</th>
            <td>{resultLabel(c.result)}</td>
          </tr>
          {rowsOf(data.templates?.response, data.answer?.fields ?? null).map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
          <tr>
            <th>反馈时间</th>
            <td>
              {fmtCn(answered?.at ?? c.completedAt)}
              {c.late && c.lateMinutes != null
                ? `（逾期 ${durationText(c.lateMinutes)}，工作时间）`
                : '（按时）'}
            </td>
          </tr>
        </tbody>
      </table>
      <p className="letter-para">特此函复。</p>
      <div className="letter-sign">
        <div>{units.name(from)}</div>
        <div>{fmtDateCn(answered?.at ?? c.completedAt)}</div>
      </div>
      <p className="letter-contact">经办人：{answered?.actorName ?? '—'}</p>
    </>
  );

  return (
    <div className="letter-page">
      {toolbar}
      <article className="letter" data-testid={`letter-${kind}`}>
        <header className="letter-head">{units.name(from)}</header>
        <div className="letter-rule" />
        {kind === 'request' ? (
          request
        ) : c.status === 'answered' ? (
          response
        ) : (
          <p className="letter-para">该协查尚未反馈，暂无反馈函。</p>
        )}
      </article>
    </div>
  );
}
