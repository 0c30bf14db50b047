/**
 * New verification (协查函): pick the catalog item, fill the subject and purpose, then the form
 * generated from the item's request template; the deadline preview shows when the answer is due before
 * anything is sent, and a confirmation repeats it.
 *
 * Checked on the client in one pass before the confirmation: an empty submit flags every missing field (the
 * subject, the purpose and the template's fields together); the ID's check character is verified with the
 * server's own code (domain/identifiers.ts: GB 11643 for a person, GB 32100 for a company); an item about
 * persons only does not offer 企业.
 */
import { Alert, App, Card, Col, Descriptions, Form, Input, Radio, Row, Select, Spin, Typography } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { subjectIdError } from '../../../domain/identifiers.ts';
import { ApiError, api, newIdempotencyKey } from '../api.ts';
import { fieldErrorsOf, MissingRoute, PageHeader, ProblemAlert, SchemaForm } from '../components.tsx';
import { useCatalog } from '../data.ts';
import { t } from '../i18n.ts';
import { flagLabel, TIERS, tierLabel } from '../labels.ts';
import { navigate } from '../router.tsx';
import { fmt } from '../time.ts';
import type { CaseSummary, DeadlinePreview, JsonObject, Tier } from '../types.ts';

interface Head {
  subjectKind: 'person' | 'company';
  subjectName: string;
  idNumber: string;
  purpose: string;
  issuingUnit?: string;
  tier: Tier;
  /** Why a slower tier than the item's (Art. 4); shown to the issuer. */
  tierReason?: string;
}

function useDeadlinePreview(tier: Tier | undefined) {
  const [preview, setPreview] = useState<DeadlinePreview>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (!tier) return;
    let stale = false;
    const load = () =>
      api
        .get<DeadlinePreview>('/api/v1/deadline-preview', { tier })
        .then((p) => {
          if (!stale) {
            setPreview(p);
            setError(undefined);
          }
        })
        .catch((e) => !stale && setError(e));
    void load();
    const timer = setInterval(() => void load(), 60_000);
    return () => {
      stale = true;
      clearInterval(timer);
    };
  }, [tier]);
  return { preview, error };
}

export function NewRequestPage() {
  const catalog = useCatalog();
  const { message, modal } = App.useApp();
  const [code, setCode] = useState<string>();
  const item = catalog.items.find((i) => i.code === code);
  const [form] = Form.useForm<Head>();
  const tier = Form.useWatch('tier', form);
  const { preview, error: previewError } = useDeadlinePreview(tier);
  const [fields, setFields] = useState<JsonObject>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // One key per filled-in request: a retry after a network failure does not send it twice.
  const [idemKey, setIdemKey] = useState(newIdempotencyKey);

  const kinds = item?.subjectKinds?.length ? item.subjectKinds : (['person', 'company'] as const);

  useEffect(() => {
    if (!item) return;
    const allowed: Head['subjectKind'][] = item.subjectKinds?.length
      ? item.subjectKinds
      : ['person', 'company'];
    form.setFieldsValue({
      tier: item.defaultTier,
      issuingUnit: item.issuingUnits[0]?.code,
      ...(allowed.includes(form.getFieldValue('subjectKind')) ? {} : { subjectKind: allowed[0] }),
    });
    setFields({});
    setError(undefined);
  }, [item, form]);

  /** The template's fields were refused: flag the subject and purpose in the same pass. */
  const flagAll = () => {
    form.validateFields().catch(() => {});
    void message.error(t('请检查标红的内容'));
  };

  const headErrors = useMemo(() => {
    if (!(error instanceof ApiError)) return {};
    const map: Record<string, string> = {
      '/body/subject/idNumber': 'idNumber',
      '/body/subject/name': 'subjectName',
      '/body/purpose': 'purpose',
      '/body/issuingUnit': 'issuingUnit',
      '/body/tier': 'tier',
    };
    const out: Record<string, string> = {};
    for (const f of error.errors) {
      const k = map[f.pointer];
      if (k) out[k] = f.detail;
    }
    return out;
  }, [error]);

  const send = async (fieldValues: JsonObject) => {
    if (!item) return;
    let head: Head;
    try {
      head = await form.validateFields();
    } catch {
      void message.error(t('请检查上方标红的内容'));
      return;
    }
    head = { ...head, idNumber: head.idNumber.trim().toUpperCase() };
    const due = preview ? fmt(preview.dueAt) : '—';
    const unitName = item.issuingUnits.find((u) => u.code === head.issuingUnit)?.name ?? head.issuingUnit;
    modal.confirm({
      title: t('确认发送'),
      okText: t('发送协查函'),
      cancelText: t('取消'),
      content: (
        <div>
          <p>
            {item.name} → {unitName}
          </p>
          <p>
            {t('预计办结时限')}：<strong data-testid="confirm-due">{due}</strong>（{tierLabel(head.tier)}）
          </p>
        </div>
      ),
      onOk: async () => {
        setBusy(true);
        setError(undefined);
        try {
          const created = await api.post<CaseSummary>(
            '/api/v1/verifications',
            {
              catalogCode: item.code,
              issuingUnit: head.issuingUnit,
              subject: {
                kind: head.subjectKind,
                name: head.subjectName.trim(),
                idNumber: head.idNumber.trim(),
              },
              fields: fieldValues,
              purpose: head.purpose.trim(),
              tier: head.tier,
              ...(head.tierReason?.trim() ? { tierReason: head.tierReason.trim() } : {}),
            },
            idemKey,
          );
          setIdemKey(newIdempotencyKey());
          void message.success(`${t('协查已发送')}：${created.docNumber}`);
          navigate(`/cases/${encodeURIComponent(created.id)}`);
        } catch (e) {
          setError(e);
          window.scrollTo(0, 0);
        } finally {
          setBusy(false);
        }
      },
    });
  };

  return (
    <div>
      <PageHeader title={t('新建协查')} />
      {catalog.missing && <MissingRoute route="GET /api/v1/catalog" />}
      <ProblemAlert error={error} onClose={() => setError(undefined)} />
      <Card title={`1. ${t('选择证明事项')}`} size="small" style={{ marginBottom: 16 }}>
        {!catalog.loaded ? (
          <Spin />
        ) : (
          <Form layout="vertical">
            <Form.Item label={t('证明事项')} htmlFor="catalog-item" style={{ marginBottom: item ? 12 : 0 }}>
              <Select
                id="catalog-item"
                showSearch={{ optionFilterProp: 'label' }}
                placeholder={t('请选择证明事项')}
                value={code}
                onChange={setCode}
                options={catalog.items.map((i) => ({ value: i.code, label: `${i.name}（${i.code}）` }))}
              />
            </Form.Item>
          </Form>
        )}
        {item && (
          <Descriptions
            size="small"
            column={{ xs: 1, md: 2 }}
            items={[
              { key: 's', label: t('办理事项'), children: item.serviceItemName ?? '—' },
              { key: 'l', label: t('法律依据'), children: item.legalBasis ?? '—' },
              { key: 'u', label: t('出具单位'), children: item.issuingUnits.map((u) => u.name).join('、') },
              { key: 't', label: t('默认时限'), children: tierLabel(item.defaultTier) },
            ]}
          />
        )}
      </Card>

      {item && (
        <Row gutter={16}>
          <Col xs={24} lg={16}>
            <Card title={`2. ${t('核验对象')}`} size="small" style={{ marginBottom: 16 }}>
              <Form<Head>
                form={form}
                layout="vertical"
                initialValues={{ subjectKind: 'person', tier: item.defaultTier }}
                disabled={busy}
              >
                <Form.Item
                  label={t('核验对象类型')}
                  name="subjectKind"
                  extra={kinds.length === 1 && kinds[0] === 'person' ? t('该事项只核验个人') : undefined}
                >
                  <Radio.Group
                    data-testid="subject-kind"
                    options={kinds.map((k) => ({ value: k, label: k === 'person' ? t('个人') : t('企业') }))}
                  />
                </Form.Item>
                <Row gutter={12}>
                  <Col xs={24} md={10}>
                    <Form.Item
                      label={t('姓名 / 名称')}
                      name="subjectName"
                      rules={[{ required: true, whitespace: true, message: t('必填') }]}
                      validateStatus={headErrors.subjectName ? 'error' : undefined}
                      help={headErrors.subjectName}
                    >
                      <Input maxLength={100} autoComplete="off" />
                    </Form.Item>
                  </Col>
                  <Col xs={24} md={14}>
                    <Form.Item
                      label={t('公民身份号码 / 统一社会信用代码')}
                      name="idNumber"
                      dependencies={['subjectKind']}
                      rules={[
                        { required: true, whitespace: true, message: t('必填') },
                        ({ getFieldValue }) => ({
                          // The server's own check (GB 11643 / GB 32100), before any confirmation.
                          validator: (_r, v?: string) => {
                            const id = v?.trim().toUpperCase();
                            const kind = getFieldValue('subjectKind') === 'company' ? 'company' : 'person';
                            const problem = id ? subjectIdError(kind, id) : undefined;
                            return problem ? Promise.reject(new Error(t(problem))) : Promise.resolve();
                          },
                        }),
                      ]}
                      validateStatus={headErrors.idNumber ? 'error' : undefined}
                      help={headErrors.idNumber}
                    >
                      <Input maxLength={18} autoComplete="off" style={{ fontFamily: 'monospace' }} />
                    </Form.Item>
                  </Col>
                </Row>
                <Form.Item
                  label={t('用途（办理的事项）')}
                  name="purpose"
                  extra={t('核验信息仅可用于此用途（第十二条）')}
                  rules={[{ required: true, min: 2, whitespace: true, message: t('至少 2 个字') }]}
                  validateStatus={headErrors.purpose ? 'error' : undefined}
                  help={headErrors.purpose}
                >
                  <Input maxLength={200} />
                </Form.Item>
                <Row gutter={12}>
                  <Col xs={24} md={12}>
                    <Form.Item
                      label={t('出具单位')}
                      name="issuingUnit"
                      rules={[{ required: true, message: t('必填') }]}
                      validateStatus={headErrors.issuingUnit ? 'error' : undefined}
                      help={headErrors.issuingUnit}
                    >
                      <Select
                        placeholder={t('请选择')}
                        options={item.issuingUnits.map((u) => ({ value: u.code, label: u.name }))}
                      />
                    </Form.Item>
                  </Col>
                  <Col xs={24} md={12}>
                    <Form.Item
                      label={t('时限档次')}
                      name="tier"
                      rules={[{ required: true, message: t('请选择时限档次') }]}
                    >
                      <Select
                        placeholder={t('请选择')}
                        options={TIERS.map((x) => ({ value: x, label: tierLabel(x) }))}
                      />
                    </Form.Item>
                  </Col>
                  {tier && TIERS.indexOf(tier) > TIERS.indexOf(item.defaultTier) && (
                    <Col xs={24}>
                      <Form.Item
                        label={t('选择较长时限的理由')}
                        name="tierReason"
                        extra={t('比该事项的默认时限更长，须说明理由（出具单位可见）')}
                        rules={[
                          { required: true, whitespace: true, min: 2, max: 500, message: t('至少 2 个字') },
                        ]}
                      >
                        <Input.TextArea rows={2} maxLength={500} />
                      </Form.Item>
                    </Col>
                  )}
                </Row>
              </Form>
            </Card>
            <Card title={`3. ${t('协查函内容')}`} size="small" style={{ marginBottom: 16 }}>
              <SchemaForm
                idPrefix="req"
                schema={item.requestSchema ?? { type: 'object', properties: {} }}
                formData={fields}
                onChange={setFields}
                onSubmit={(d) => void send(d)}
                onInvalid={flagAll}
                submitText={t('发送协查函')}
                busy={busy}
                extraErrors={fieldErrorsOf(error)}
              />
            </Card>
          </Col>
          <Col xs={24} lg={8}>
            <Card title={t('预计办结时限')} size="small" className="deadline-card">
              {previewError ? (
                <ProblemAlert error={previewError} />
              ) : preview ? (
                <div data-testid="deadline-preview">
                  <Typography.Title level={4} style={{ margin: 0 }}>
                    {fmt(preview.dueAt)}
                  </Typography.Title>
                  <Typography.Text type="secondary">
                    {tierLabel(preview.tier)} · {t('收到时间')} {fmt(preview.effectiveReceivedAt)}
                  </Typography.Text>
                  {preview.flags.map((f) => (
                    <Alert key={f} type="warning" showIcon title={flagLabel(f)} style={{ marginTop: 8 }} />
                  ))}
                  <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0 }}>
                    {t(
                      '时限按工作时间计算（工作日 09:00–12:00、13:30–17:30，法定节假日除外、调休上班日计入）。',
                    )}
                  </Typography.Paragraph>
                </div>
              ) : (
                <Spin />
              )}
            </Card>
          </Col>
        </Row>
      )}
    </div>
  );
}
