/**
 * Every component's JSDoc against its code, so the two cannot drift: each `part="…"` its template renders (with
 * those of the light-DOM elements it renders, whose parts are its own) is a @csspart and each @csspart is rendered;
 * each event it or its controllers send is an @event and each @event is sent. And one registration pattern: a class
 * in `<tag>.component.ts`, a registration file `<tag>.ts` that only calls `define('<tag>')`, and no other
 * `customElements.define` than the one in internal/glomseg-element.ts.
 */
import { describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/paths.js';

const SRC = path.join(REPO_ROOT, 'plugin/src');
const COMPONENTS = path.join(SRC, 'components');

interface Component {
  tag: string;
  file: string;
  /** The component class's file. */
  source: string;
  /** That file and the modules of its own folder it imports (templates, styles): what it renders and sends. */
  code: string;
}

async function components(): Promise<Component[]> {
  const out: Component[] = [];
  for (const tag of await readdir(COMPONENTS)) {
    const file = path.join(COMPONENTS, tag, `glomseg-${tag}.component.ts`);
    const source = await readFile(file, 'utf8');
    const own = [...source.matchAll(/from '\.\/([^']+)\.js'/g)].map((m) => path.join(path.dirname(file), `${m[1]}.ts`));
    const code = [source, ...(await Promise.all(own.map((f) => readFile(f, 'utf8'))))].join('\n');
    out.push({ tag: `glomseg-${tag}`, file, source, code });
  }
  return out;
}

/** The JSDoc block right before the component's class. */
function classDoc(source: string): string {
  const at = source.indexOf('export default class');
  const start = source.lastIndexOf('/**', at);
  expect(at, 'a default-exported class').toBeGreaterThan(0);
  return source.slice(start, at);
}

const tagged = (doc: string, tag: string) =>
  [...doc.matchAll(new RegExp(`@${tag}\\s+([a-z][a-z0-9-]*)`, 'g'))].map((m) => m[1]).sort();
const templateParts = (source: string) => [...source.matchAll(/\bpart="([a-z][a-z0-9-]*)"/g)].map((m) => m[1]);
/** Whether the component's code (not its comments) renders this element. */
const renders = (source: string, tag: string) =>
  new RegExp(`<${tag}[\\s>]`).test(source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''));
const sentEvents = (source: string) => [...source.matchAll(/glomsegEvent\(\s*'([a-z-]+)'/g)].map((m) => m[1]);

/** The controllers a component source imports (relative to the component's folder). */
async function controllerSources(component: Component): Promise<string[]> {
  const imports = [...component.code.matchAll(/from '(\.\.\/\.\.\/controllers\/[^']+)\.js'/g)].map((m) => m[1]);
  return Promise.all(imports.map((spec) => readFile(path.resolve(path.dirname(component.file), `${spec}.ts`), 'utf8')));
}

describe('component JSDoc', async () => {
  const all = await components();
  const byTag = new Map(all.map((c) => [c.tag, c]));

  it('finds the components', () => {
    expect(all.map((c) => c.tag).sort()).toEqual([
      'glomseg-glomerulus-table',
      'glomseg-map-tools',
      'glomseg-overlay',
      'glomseg-panel',
      'glomseg-shortcut-help',
      'glomseg-sign-in',
      'glomseg-viewer',
    ]);
  });

  it.each(all.map((c) => [c.tag, c] as const))(
    '%s lists every CSS part it renders as @csspart, and no other',
    (_, component) => {
      const rendered = new Set(templateParts(component.code));
      // A rendered element without a shadow root (its createRenderRoot returns itself) renders its parts into ours.
      for (const [tag, other] of byTag) {
        if (
          tag !== component.tag &&
          renders(component.code, tag) &&
          /createRenderRoot\(\)\s*{\s*return this;/.test(other.source)
        ) {
          for (const part of templateParts(other.code)) rendered.add(part);
        }
      }
      expect(rendered.size).toBeGreaterThan(0);
      expect(tagged(classDoc(component.source), 'csspart')).toEqual([...rendered].sort());
    },
  );

  it.each(all.map((c) => [c.tag, c] as const))(
    '%s lists every event it and its controllers send as @event, and no other',
    async (_, component) => {
      const sent = new Set(sentEvents(component.code));
      for (const controller of await controllerSources(component))
        for (const event of sentEvents(controller)) sent.add(event);
      expect(sent.size).toBeGreaterThan(0);
      expect(tagged(classDoc(component.source), 'event')).toEqual([...sent].sort());
    },
  );

  it.each(all.map((c) => [c.tag, c] as const))(
    '%s names the elements it renders as @dependency and in its dependencies',
    (_, component) => {
      const rendered = [...byTag.keys()].filter((tag) => tag !== component.tag && renders(component.code, tag)).sort();
      expect(tagged(classDoc(component.source), 'dependency')).toEqual(rendered);
      const declared = /static override dependencies = {([^}]*)}/.exec(component.source)?.[1] ?? '';
      expect([...declared.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]).sort()).toEqual(rendered);
    },
  );
});

describe('component registration', async () => {
  const all = await components();

  it.each(all.map((c) => [c.tag, c] as const))(
    '%s is registered by a file that only defines it',
    async (tag, component) => {
      const registration = await readFile(component.file.replace(/\.component\.ts$/, '.ts'), 'utf8');
      const code = registration.replace(/\/\*\*[\s\S]*?\*\//g, '').replace(/declare global {[\s\S]*}\s*$/, '');
      const statements = code
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      expect(statements).toEqual([
        expect.stringMatching(new RegExp(`^import \\w+ from './${tag}\\.component\\.js';$`)),
        `export * from './${tag}.component.js';`,
        expect.stringMatching(/^export default \w+;$/),
        expect.stringMatching(new RegExp(`^\\w+\\.define\\('${tag}'\\);$`)),
      ]);
    },
  );

  it('calls customElements.define in one place only', async () => {
    const files = (await readdir(SRC, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const defining = [];
    for (const file of files)
      if ((await readFile(path.join(SRC, file), 'utf8')).includes('customElements.define(')) defining.push(file);
    expect(defining).toEqual([path.join('internal', 'glomseg-element.ts')]);
  });
});
