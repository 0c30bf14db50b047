/**
 * English is switchable in the web app (web/src/i18n.ts): every Chinese text a screen passes to `t('…')` has
 * its English entry, so a new screen cannot leave Chinese in the English UI by forgetting one.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../app/temporal-tools.ts';
import { englishFor } from '../web/src/i18n.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return /\.tsx?$/.test(name) && name !== 'i18n.ts' ? [file] : [];
  });
}

/** Every literal first argument of `t('…')` in the web app, with the file it is in. */
function translatedTexts(): { text: string; file: string }[] {
  const found: { text: string; file: string }[] = [];
  for (const file of sources(path.join(PROJECT_ROOT, 'web', 'src'))) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/\bt\(\s*'((?:[^'\\]|\\.)*)'/g)) {
      const text = (m[1] ?? '').replace(/\\(.)/g, '$1');
      found.push({ text, file: path.relative(PROJECT_ROOT, file) });
    }
  }
  return found;
}

describe('the English dictionary', () => {
  it('has an entry for every text a screen translates', () => {
    const texts = translatedTexts();
    expect(texts.length).toBeGreaterThan(400);
    const missing = texts.filter((x) => englishFor(x.text) === undefined).map((x) => `${x.file}: ${x.text}`);
    expect(missing).toEqual([]);
  });

  it('answers in English, not in Chinese', () => {
    const chinese = translatedTexts()
      .map((x) => englishFor(x.text) ?? '')
      .filter((en) => /[\u4e00-\u9fff]{3,}/.test(en) && !/[A-Za-z]/.test(en));
    expect(chinese).toEqual([]);
  });
});
