// Checks the Kubernetes manifests `kubectl kustomize docker/k8s` prints
// (read from the file named on the command line, or stdin):
//
// 1. Against the API's schema: every document becomes a TypeScript object
//    literal typed with the npm package kubernetes-types (the Kubernetes
//    OpenAPI definitions as types) and is compiled with `strict`, so a
//    misspelt field (an excess property), a field of the wrong type or a
//    missing required one is a compile error. A misspelt field, a wrong type
//    and a missing name are each put into a copy of the manifests too, and
//    each copy must fail: a check that passed everything would fail here.
// 2. Against what docker/ promises: probes on the gRPC health service,
//    worker CPU requests equal to --threads, completions x --n-trials equal
//    to the study's --max-trials, a grace period on every pod, non-root.
//
// Exit code 0 when every check holds; otherwise 1, each failure on a line.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import YAML from "yaml";

const input = fs.readFileSync(process.argv[2] ?? 0, "utf8");
const docs = YAML.parseAllDocuments(input).map((d) => d.toJS()).filter((d) => d);
const failures = [];
const fail = (message) => failures.push(message);

// apiVersion "apps/v1" -> kubernetes-types/apps/v1; "v1" is the core group.
function typeModule(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  return `kubernetes-types/${group.split(".")[0]}/${version}`;
}

function sourceOf(documents) {
  const imports = new Map();
  const consts = documents.map((doc, i) => {
    const alias = `${doc.kind}_${i}`;
    imports.set(alias, `import type { ${doc.kind} as ${alias} } from "${typeModule(doc.apiVersion)}";`);
    return `// ${doc.kind}/${doc.metadata?.name}\nexport const doc${i}: ${alias} = ${JSON.stringify(doc, null, 2)};`;
  });
  return [...imports.values(), ...consts].join("\n") + "\n";
}

const clone = (x) => JSON.parse(JSON.stringify(x));
const find = (documents, kind) => documents.find((d) => d.kind === kind);
// Each must fail the schema check, with a message that names the fault.
const mutants = [
  {
    what: "a misspelt container field",
    expect: "imagePullPolcy",
    apply: (d) => { find(d, "StatefulSet").spec.template.spec.containers[0].imagePullPolcy = "Always"; },
  },
  {
    what: "a misspelt Job field",
    expect: "paralelism",
    apply: (d) => { const job = find(d, "Job"); job.spec.paralelism = job.spec.parallelism; delete job.spec.parallelism; },
  },
  {
    what: "a number given as a string",
    expect: "replicas",
    apply: (d) => { find(d, "StatefulSet").spec.replicas = "1"; },
  },
  {
    what: "a container without its required name",
    expect: "name",
    apply: (d) => { delete find(d, "Job").spec.template.spec.containers[0].name; },
  },
];

const unknown = docs.filter((d) => !d.apiVersion || !d.kind);
if (unknown.length) fail(`${unknown.length} document(s) without apiVersion or kind`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "parzen-k8s-"));
const files = [{ name: "manifests", docs }];
for (const [i, m] of mutants.entries()) {
  const copy = clone(docs);
  m.apply(copy);
  files.push({ name: `mutant${i}`, docs: copy, mutant: m });
}
for (const f of files) {
  f.path = path.join(dir, `${f.name}.ts`);
  fs.writeFileSync(f.path, sourceOf(f.docs));
}
const here = path.dirname(new URL(import.meta.url).pathname);
const program = ts.createProgram(files.map((f) => f.path), {
  strict: true,
  noEmit: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: true,
  types: [],
  typeRoots: [],
  baseUrl: here,
  paths: { "kubernetes-types/*": [path.join(here, "node_modules/kubernetes-types/*")] },
  moduleResolution: ts.ModuleResolutionKind.Node10,
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2020,
});
const messages = (file) =>
  ts.getPreEmitDiagnostics(program, program.getSourceFile(file.path)).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (!d.file || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const source = d.file.text.split("\n")[line].trim();
    return `${path.basename(d.file.fileName)}:${line + 1}: ${text} [${source}]`;
  });
for (const f of files) {
  const errors = messages(f);
  if (!f.mutant) {
    for (const e of errors) fail(`schema: ${e}`);
  } else if (!errors.some((e) => e.includes(f.mutant.expect))) {
    fail(`the schema check let ${f.mutant.what} through (${errors.length} errors: ${errors.join("; ")})`);
  }
}
fs.rmSync(dir, { recursive: true });

// What docker/ promises beyond the schema.
const flag = (args, name) => {
  const a = (args ?? []).find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
};
const server = find(docs, "StatefulSet");
const job = find(docs, "Job");
const service = find(docs, "Service");
if (!server || !job || !service) {
  fail("expected a StatefulSet, a Job and a Service");
} else {
  const pods = [server.spec.template.spec, job.spec.template.spec];
  const c = server.spec.template.spec.containers[0];
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    if (c[probe]?.grpc?.port !== 50051) fail(`server ${probe} is not a gRPC health probe on 50051`);
  }
  if (server.spec.replicas !== 1) fail("one server per database: replicas must be 1");
  if (!server.spec.volumeClaimTemplates?.length) fail("the server's database needs a PersistentVolumeClaim");
  if (!c.volumeMounts?.some((m) => m.mountPath === "/var/lib/parzen")) fail("the claim must hold /var/lib/parzen");
  if (service.spec.ports?.[0]?.port !== 50051) fail("the Service must expose 50051");
  if (job.spec.completionMode !== "Indexed") fail("workers must be an Indexed Job");
  const worker = job.spec.template.spec.containers[0];
  const threads = Number(flag(worker.args, "threads"));
  if (!(threads >= 1)) fail("the worker must set --threads");
  for (const kind of ["requests", "limits"]) {
    if (Number(worker.resources?.[kind]?.cpu) !== threads) {
      fail(`worker CPU ${kind} (${worker.resources?.[kind]?.cpu}) must equal --threads (${threads})`);
    }
  }
  const create = job.spec.template.spec.initContainers?.find((x) => x.args?.includes("create"));
  const budget = Number(flag(create?.args, "max-trials"));
  const perPod = Number(flag(worker.args, "n-trials"));
  if (job.spec.completions * perPod !== budget) {
    fail(`completions (${job.spec.completions}) x --n-trials (${perPod}) must equal --max-trials (${budget})`);
  }
  if (!(job.spec.parallelism <= job.spec.completions)) fail("parallelism above completions");
  if (!create?.args?.includes(flag(worker.args, "study"))) {
    fail("the init container must create the study the workers run");
  }
  for (const pod of pods) {
    if (!(pod.terminationGracePeriodSeconds > 0)) fail("every pod needs terminationGracePeriodSeconds");
    if (pod.securityContext?.runAsNonRoot !== true) fail("every pod runs as non-root");
  }
  for (const x of [c, worker]) {
    if (!x.args?.some((a) => a.startsWith("--token-file="))) fail(`${x.name} must use the token Secret`);
  }
}

for (const f of failures) console.log(`FAIL ${f}`);
console.log(failures.length ? `${failures.length} check(s) failed` :
  `ok: ${docs.length} documents match the Kubernetes schemas; ${mutants.length} faulty copies were refused`);
process.exit(failures.length ? 1 : 0);
