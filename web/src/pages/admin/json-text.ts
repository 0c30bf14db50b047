/** A JSON text checked for people: where it stops being JSON, said in Chinese (the template designer's JSON tab). */
import { t } from '../../i18n.ts';

/**
 * Where a JSON text stops being JSON (the offset of the first character that cannot be there), or -1 when
 * it is JSON. The browser's own JSON.parse message is in English and does not always say where.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if ((text.charCodeAt(i) ?? 0) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) fail();
      i += (m as RegExpExecArray)[0].length;
    }
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : 0;
  }
}

/** A JSON text's problem in Chinese (line and column), or undefined when it is a JSON object. */
export function jsonProblem(text: string): string | undefined {
  const at = jsonErrorOffset(text);
  if (at >= 0) {
    const upTo = text.slice(0, at);
    const line = upTo.split('\n').length;
    const column = upTo.length - upTo.lastIndexOf('\n');
    return t('JSON 格式有误：第 {line} 行第 {column} 列附近，请检查括号、引号和逗号', { line, column });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return t('JSON 格式有误：请检查括号、引号和逗号是否成对、完整');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return t('模板须为 JSON 对象（以 { 开头、} 结尾）');
  return undefined;
}
