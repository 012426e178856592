/**
 * The Kubernetes manifests under deploy/kubernetes, checked offline (no cluster here; the
 * serve Deployment also runs under `podman kube play` in container.test.ts): each parses, has
 * the fields its kind requires, and its references (labels, named ports, volumes, Secrets,
 * ConfigMaps, claims) resolve; the image is this version; the documented policies hold.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, VERSION } from './deploy-harness.js';

type Doc = Record<string, any>;
const DIR = join(REPO_ROOT, 'deploy/kubernetes');
const API: Record<string, string> = {
  Deployment: 'apps/v1',
  Service: 'v1',
  PodDisruptionBudget: 'policy/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  PersistentVolumeClaim: 'v1',
};

function load(): Array<{ file: string; doc: Doc }> {
  const out: Array<{ file: string; doc: Doc }> = [];
  for (const sub of readdirSync(DIR).sort()) {
    for (const file of readdirSync(join(DIR, sub)).filter((f) => f.endsWith('.yaml'))) {
      for (const parsed of parseAllDocuments(readFileSync(join(DIR, sub, file), 'utf8'))) {
        expect(parsed.errors, `${sub}/${file}`).toEqual([]);
        out.push({ file: `${sub}/${file}`, doc: parsed.toJS() as Doc });
      }
    }
  }
  return out;
}

const docs = load();
const all = docs.map((d) => d.doc);
const ofKind = (kind: string) => all.filter((d) => d.kind === kind);
const one = (kind: string) => {
  const found = ofKind(kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const MEMORY = /^(\d+)(Mi|Gi)$/;
const mebibytes = (q: string) => {
  const m = MEMORY.exec(q);
  expect(m, q).not.toBeNull();
  return Number(m![1]) * (m![2] === 'Gi' ? 1024 : 1);
};

function podSpec(doc: Doc): Doc {
  if (doc.kind === 'CronJob') return doc.spec.jobTemplate.spec.template.spec;
  return doc.spec.template.spec;
}

describe('deploy/kubernetes manifests', () => {
  it('parse, and every object has a known kind, its apiVersion and a name', () => {
    expect(docs.length).toBeGreaterThanOrEqual(9);
    for (const { file, doc } of docs) {
      expect(API[doc.kind], `${file}: kind ${doc.kind}`).toBeDefined();
      expect(doc.apiVersion, `${file} ${doc.kind}`).toBe(API[doc.kind]);
      expect(doc.metadata?.name, `${file} ${doc.kind}`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('pods: the image of this version, not root, memory requested and limited, mounts and references resolve', () => {
    for (const doc of all.filter((d) => ['Deployment', 'Job', 'CronJob'].includes(d.kind))) {
      const pod = podSpec(doc);
      const where = `${doc.kind} ${doc.metadata.name}`;
      expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
      expect(pod.securityContext?.runAsUser, where).toBe(65532);
      const volumes = new Set((pod.volumes ?? []).map((v: Doc) => v.name));
      for (const v of pod.volumes ?? []) {
        if (v.persistentVolumeClaim) {
          const claim = v.persistentVolumeClaim.claimName;
          // The import's inbox is the site's own (the media's copy); the workspace is ours.
          if (claim !== 'airlock-inbox')
            expect(ofKind('PersistentVolumeClaim').map((c) => c.metadata.name)).toContain(claim);
        }
        if (v.configMap)
          expect(
            ofKind('ConfigMap').map((c) => c.metadata.name),
            where,
          ).toContain(v.configMap.name);
      }
      for (const c of pod.containers) {
        expect(c.image, where).toBe(`registry.example.internal/airlock:${VERSION}`);
        expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        const request = mebibytes(c.resources.requests.memory);
        const limit = mebibytes(c.resources.limits.memory);
        // BENCHMARKS.md: every stage peaked under 250 MB; serve at 154 MB.
        expect(request, where).toBeGreaterThanOrEqual(doc.kind === 'Deployment' ? 160 : 240);
        expect(limit, where).toBeGreaterThanOrEqual(2 * request);
        for (const m of c.volumeMounts ?? [])
          expect(volumes, `${where} ${m.name}`).toContain(m.name);
        for (const e of c.envFrom ?? [])
          expect(
            ofKind('Secret').map((s) => s.metadata.name),
            where,
          ).toContain(e.secretRef.name);
      }
    }
  });

  it('serve: 2+ replicas on S3 with credentials from a Secret, /healthz probes, a Service and a PodDisruptionBudget that select it', () => {
    const deployment = one('Deployment');
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    const serve = deployment.spec.template.spec.containers[0];
    expect(serve.args.slice(0, 3)).toEqual(['serve', '--repo', serve.args[2]]);
    expect(serve.args[2]).toMatch(/^s3:\/\//);
    expect(serve.envFrom[0].secretRef.name).toBe('airlock-s3');
    expect(Object.keys(one('Secret').stringData)).toEqual(
      expect.arrayContaining(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']),
    );
    const portNames = serve.ports.map((p: Doc) => p.name);
    for (const probe of [serve.readinessProbe, serve.livenessProbe]) {
      expect(probe.httpGet.path).toBe('/healthz');
      expect(portNames).toContain(probe.httpGet.port);
    }
    expect(serve.ports[0].containerPort).toBe(Number(serve.args[serve.args.indexOf('--port') + 1]));
    const service = one('Service');
    expect(Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v)).toBe(true);
    expect(portNames).toContain(service.spec.ports[0].targetPort);
    const pdb = one('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(labels);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('import: a Job reading the bundle from a read-only volume, trusting a key, into the same repository', () => {
    const job = one('Job');
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const c = pod.containers[0];
    expect(c.args[0]).toBe('import');
    expect(c.args).toContain('--trust');
    const repo = c.args[c.args.indexOf('--repo') + 1];
    expect(repo).toBe(one('Deployment').spec.template.spec.containers[0].args[2]);
    const bundleMount = c.volumeMounts.find((m: Doc) => c.args[1].startsWith(m.mountPath));
    expect(bundleMount.readOnly).toBe(true);
    // Retrying cannot fix exit 2 (usage) or 4 (integrity).
    expect(job.spec.podFailurePolicy.rules[0].onExitCodes.values).toEqual([2, 4]);
  });

  it('connected side: a CronJob with concurrencyPolicy Forbid, download then bundle on a PersistentVolumeClaim', () => {
    const cron = one('CronJob');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(cron.spec.schedule.split(' ')).toHaveLength(5);
    const pod = podSpec(cron);
    expect(pod.restartPolicy).toBe('Never');
    const script = pod.containers[0].args.join(' ');
    expect(script.indexOf('airlock download')).toBeGreaterThanOrEqual(0);
    expect(script.indexOf('airlock bundle')).toBeGreaterThan(script.indexOf('airlock download'));
    expect(script).toContain('--sign-key');
    const data = pod.volumes.find((v: Doc) => v.persistentVolumeClaim);
    expect(one('PersistentVolumeClaim').metadata.name).toBe(data.persistentVolumeClaim.claimName);
    expect(one('PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteOnce']);
  });
});
