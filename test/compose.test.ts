import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Static checks of the deployment topology: docker-compose.yml cannot be run on the CI machines.

type Env = Record<string, string>;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Env | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: unknown[];
  container_name?: string;
  healthcheck?: { test?: string | string[] };
}
interface Compose {
  services: Record<string, Service>;
}

const composeUrl = new URL('../docker-compose.yml', import.meta.url);
const compose = parse(readFileSync(composeUrl, 'utf8')) as Compose;
const services = compose.services;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  scripts: Record<string, string>;
};

/** Compose-style interpolation with dummy values: ${X}, ${X:-default}, ${X:?message} -> value. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}/g,
    (_m, name: string) => `dummy_${name}`,
  );
}

function envOf(service: Service): Env {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(
    env.map((line) => {
      const i = line.indexOf('=');
      return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)];
    }),
  );
}

function dependsOn(service: Service): string[] {
  const d = service.depends_on;
  if (!d) return [];
  return Array.isArray(d) ? d : Object.keys(d);
}

function dockerfileOf(service: Service): URL {
  const build = service.build;
  expect(build, 'service must have a build section').toBeDefined();
  const context = typeof build === 'string' ? build : (build?.context ?? '.');
  const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build?.dockerfile ?? 'Dockerfile');
  const contextUrl = new URL(`${context.replace(/\/?$/, '/')}`, composeUrl);
  return new URL(dockerfile, contextUrl);
}

/** The exec-form CMD of the (single-stage) Dockerfile, e.g. ['npm', 'run', 'api']. */
function dockerfileCmd(text: string): string[] | undefined {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const cmd = lines.filter((l) => /^\s*CMD\s/i.test(l)).pop();
  if (!cmd) return undefined;
  const arg = cmd.replace(/^\s*CMD\s+/i, '').trim();
  return arg.startsWith('[') ? (JSON.parse(arg) as string[]) : ['/bin/sh', '-c', arg];
}

function asArgv(command: string | string[]): string[] {
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

const appServices = ['api', 'worker'] as const;

describe('docker-compose.yml', () => {
  it('defines the five services of the topology', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', 'api', 'worker']) {
      expect(services, `service ${name}`).toHaveProperty([name]);
    }
  });

  it('runs postgres 16 with a healthcheck and a volume', () => {
    const pg = services.postgres as Service & { volumes?: unknown[] };
    expect(pg.image).toMatch(/^postgres:16/);
    expect(pg.healthcheck?.test).toBeDefined();
    expect(pg.volumes?.length ?? 0).toBeGreaterThan(0);
  });

  it('gives temporal PostgreSQL persistence on the postgres service', () => {
    const temporal = services.temporal as Service;
    expect(temporal.image).toMatch(/^temporalio\/auto-setup(:|$)/);
    const env = envOf(temporal);
    expect(env.DB).toMatch(/^postgres12/);
    expect(env.POSTGRES_SEEDS).toBe('postgres');
    expect(env.DB_PORT).toBe('5432');
    expect(env.POSTGRES_USER).toBeTruthy();
    expect(env.POSTGRES_PWD).toBeTruthy();
    expect(dependsOn(temporal)).toContain('postgres');
    // Temporal's databases must not be the app's database.
    const appDb = new URL(interpolate(envOf(services.api as Service).DATABASE_URL ?? '')).pathname.slice(1);
    for (const db of [env.DBNAME ?? 'temporal', env.VISIBILITY_DBNAME ?? 'temporal_visibility']) {
      expect(db).not.toBe(appDb);
    }
  });

  it('points temporal-ui at the temporal service on port 8080', () => {
    const ui = services['temporal-ui'] as Service;
    expect(ui.image).toMatch(/^temporalio\/ui(:|$)/);
    expect(envOf(ui).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(JSON.stringify(ui.ports)).toContain('8080');
  });

  for (const name of appServices) {
    describe(name, () => {
      const service = services[name] as Service;

      it('is built from the Dockerfile', () => {
        expect(existsSync(dockerfileOf(service))).toBe(true);
      });

      it('reaches Temporal and PostgreSQL through their services', () => {
        const env = envOf(service);
        const [host, port] = (env.TEMPORAL_ADDRESS ?? '').split(':');
        expect(host).toBe('temporal');
        expect(port).toBe('7233');
        expect(env.TEMPORAL_NAMESPACE).toBe('default');

        const db = new URL(interpolate(env.DATABASE_URL ?? ''));
        expect(db.protocol).toMatch(/^postgres(ql)?:$/);
        expect(db.hostname).toBe('postgres');
        expect(db.port || '5432').toBe('5432');
        expect(db.pathname).toBe('/xiecha');
        expect(env.PORT).toBe('3000');
      });

      it('requires its secrets from the environment instead of defaulting them', () => {
        const env = envOf(service);
        for (const key of ['JWT_SECRET', 'PAYLOAD_KEYS', 'SUBJECT_KEY', 'AUDIT_KEY']) {
          expect(env[key], key).toMatch(new RegExp(`^\\$\\{${key}:\\?[^}]+\\}$`));
        }
        expect(env.DATABASE_URL).toMatch(/\$\{[A-Z_]+:\?[^}]+\}/);
      });

      it('depends on temporal and postgres', () => {
        expect(dependsOn(service)).toEqual(expect.arrayContaining(['temporal', 'postgres']));
      });

      it(`runs the package.json script "${name}"`, () => {
        const dockerfile = readFileSync(dockerfileOf(service), 'utf8');
        const argv = service.command ? asArgv(service.command) : dockerfileCmd(dockerfile);
        expect(service.entrypoint, 'no entrypoint override').toBeUndefined();
        expect(argv).toEqual(['npm', 'run', name]);
        expect(pkg.scripts[name], `package.json scripts.${name}`).toBeTruthy();
      });
    });
  }

  it('publishes the api on 3000 with a /healthz healthcheck', () => {
    const api = services.api as Service;
    expect(JSON.stringify(api.ports)).toMatch(/3000:3000/);
    expect(JSON.stringify(api.healthcheck?.test)).toContain('/healthz');
  });

  it('keeps the worker scalable (no container_name, no published port)', () => {
    const worker = services.worker as Service;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
  });

  it('only depends on services that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dep of dependsOn(service)) {
        expect(Object.keys(services), `${name} depends_on ${dep}`).toContain(dep);
      }
    }
  });
});

describe('Dockerfile', () => {
  const url = new URL('../Dockerfile', import.meta.url);

  it('exists, uses node 20 on bookworm and a full npm ci', () => {
    expect(existsSync(url)).toBe(true);
    const text = readFileSync(url, 'utf8');
    expect(text).toMatch(/^FROM\s+node:20-bookworm-slim\b/m);
    expect(text).toMatch(/\bnpm ci\b/);
    expect(text).not.toMatch(/--omit[= ]dev|--production/);
  });

  it('defaults to a package.json script that exists', () => {
    const argv = dockerfileCmd(readFileSync(url, 'utf8'));
    expect(argv?.slice(0, 2)).toEqual(['npm', 'run']);
    expect(pkg.scripts[argv?.[2] ?? '']).toBeTruthy();
  });
});
