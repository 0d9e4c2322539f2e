// Renders bench/RESULTS.md from every recorded run (bench/results/*.json):
// the machine, the commands, the raw numbers, and the issue's targets met or not.
import fs from "node:fs";

export interface ScenarioResult {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  responses: number;
  statusCounts: Record<string, number>;
  /** Responses that were neither 2xx nor 3xx. */
  bad: number;
  /** autocannon's count; includes the timeouts. */
  errors: number;
  timeouts: number;
  maxRssMb: number;
  /** From the Server-Timing `db` metric on a sample of responses; null when the header is absent. */
  statements: { min: number; max: number; mean: number; samples: number } | null;
  sampleStatuses: number[];
  /** Article by random slug only: how many responses (warm-up and load) reported each statement count. */
  statementsPerResponse?: Record<string, number>;
  /** Share (%) of the machine's CPU capacity during the load: the server, autocannon (the bench process), everything else (PostgreSQL included). */
  cpuShare?: { server: number; loadGenerator: number; other: number };
}

export interface RunRecord {
  label: string;
  date: string;
  command: string;
  database: "postgresql" | "pglite";
  databaseVersion: string;
  articles: number;
  corpus: Record<string, number>;
  machine: { nproc: number; cpu: string; memoryGiB: number; node: string; os: string };
  settings: { connections: number; durationSeconds: number; warmupSeconds: number; logLevel: string; poolSize?: number };
  corpusSeconds: number;
  startupSeconds: number;
  loadAverage?: { atStart: number; atEnd: number };
  rssIdleMb?: number;
  rssAfterMb?: number;
  articleBytes: number;
  revalidation304: boolean;
  /** Error-level lines the server logged while under load (not at shutdown). */
  serverErrorsUnderLoad?: number;
  scenarios: ScenarioResult[];
  notes: string[];
}

const RANDOM = "article by random slug";
const HOT = "article by slug, 100 hot";
const LATEST = "latest 20";
const FRONT = "section front";
const POPULAR = "popular 24h";
const R304 = "304 revalidation (hot article)";
const EXPRESS = "ceiling: Express 5 res.json";
/** The 100k run's req/s within this fraction of the 10k run's, either way, counts as "within noise". */
const NOISE = 0.15;

const find = (r: RunRecord | undefined, name: string) => r?.scenarios.find((s) => s.name === name);
const isCeiling = (s: ScenarioResult) => s.name.startsWith("ceiling:");
const stmts = (s: ScenarioResult) => {
  if (!s.statements) return "unknown";
  const { min, max, mean } = s.statements;
  return min === max ? String(min) : `${min}–${max} (mean ${mean})`;
};
/** Requests served per second of the server's own CPU time: less sensitive than req/s to other work on the machine. */
const perCpu = (s: ScenarioResult | undefined, r: RunRecord) =>
  s?.cpuShare && s.cpuShare.server > 0 ? Math.round(s.reqPerSec / ((s.cpuShare.server / 100) * r.machine.nproc)) : undefined;
const mark = (ok: boolean | undefined) => (ok === undefined ? "not measured" : ok ? "**met**" : "**not met**");

/** `before`: runs kept from before the delivery work (bench/results/before/), shown for comparison. */
export function renderResults(runs: RunRecord[], before: RunRecord[] = []): string {
  const order = (r: RunRecord) => (r.database === "postgresql" ? 0 : 1) * 1e9 - r.articles;
  runs = [...runs].sort((a, b) => order(a) - order(b));
  before = [...before].sort((a, b) => order(a) - order(b));
  const pg100 = runs.find((r) => r.database === "postgresql" && r.articles === 100_000);
  const pg10 = runs.find((r) => r.database === "postgresql" && r.articles === 10_000);
  const lite10 = runs.find((r) => r.database === "pglite" && r.articles === 10_000);

  const targets: [string, string, string, boolean | undefined][] = [];
  const t = (target: string, run: RunRecord | undefined, measured: (r: RunRecord) => string, ok: (r: RunRecord) => boolean | undefined) =>
    targets.push([target, run?.label ?? "—", run ? measured(run) : "—", run ? ok(run) : undefined]);
  const rate = (r: RunRecord, n: string) => find(r, n)?.reqPerSec;
  const share = (r: RunRecord, n: string) => {
    const a = rate(r, n), c = rate(r, EXPRESS);
    return a !== undefined && c ? a / c : undefined;
  };
  const pct = (x: number | undefined) => (x === undefined ? "—" : `${Math.round(x * 100)} %`);
  const dateline = (r: RunRecord) => r.scenarios.filter((s) => !isCeiling(s));

  t("article by random slug, PostgreSQL, 100k: ≥ 2,000 req/s, p99 < 50 ms", pg100,
    (r) => `${rate(r, RANDOM)} req/s, p99 ${find(r, RANDOM)?.p99} ms`,
    (r) => { const s = find(r, RANDOM); return s && s.reqPerSec >= 2000 && s.p99 < 50; });
  targets.push([
    `article by random slug: 100k within noise of 10k (req/s within ±${NOISE * 100} %)`,
    pg10 && pg100 ? `${pg10.label} / ${pg100.label}` : "—",
    pg10 && pg100 ? `${rate(pg10, RANDOM)} / ${rate(pg100, RANDOM)} req/s (${pct((rate(pg100, RANDOM) ?? 0) / (rate(pg10, RANDOM) || 1))}); p99 ${find(pg10, RANDOM)?.p99} / ${find(pg100, RANDOM)?.p99} ms` : "—",
    pg10 && pg100 ? Math.abs((rate(pg100, RANDOM) ?? 0) / (rate(pg10, RANDOM) || 1) - 1) <= NOISE : undefined,
  ]);
  t("popular 24h: ≥ 2,000 req/s", pg100, (r) => `${rate(r, POPULAR)} req/s`, (r) => (rate(r, POPULAR) ?? 0) >= 2000);
  const cpuShareOf = (r: RunRecord, n: string) => {
    const a = perCpu(find(r, n), r), c = perCpu(find(r, EXPRESS), r);
    return a !== undefined && c ? ` (per server CPU-second: ${a} / ${c} = ${pct(a / c)})` : "";
  };
  t("hot article (cache hits): ≥ 80 % of the Express ceiling", pg100,
    (r) => `${rate(r, HOT)} / ${rate(r, EXPRESS)} req/s = ${pct(share(r, HOT))}${cpuShareOf(r, HOT)}`, (r) => (share(r, HOT) ?? 0) >= 0.8);
  t("304 revalidation: ≥ 90 % of the Express ceiling (and really 304)", pg100,
    (r) => `${rate(r, R304) ?? "—"} / ${rate(r, EXPRESS)} req/s = ${pct(share(r, R304))}${cpuShareOf(r, R304)}; ${r.revalidation304 ? "answers 304" : "does not answer 304"}`,
    (r) => r.revalidation304 && (share(r, R304) ?? 0) >= 0.9);
  t("latest 20: ≥ 2,000 req/s", pg100, (r) => `${rate(r, LATEST)} req/s`, (r) => (rate(r, LATEST) ?? 0) >= 2000);
  t("section front: ≥ 2,000 req/s", pg100, (r) => `${rate(r, FRONT)} req/s`, (r) => (rate(r, FRONT) ?? 0) >= 2000);
  t("server RSS under load < 250 MB (PostgreSQL)", pg100,
    (r) => `max ${Math.max(...dateline(r).map((s) => s.maxRssMb))} MB`, (r) => Math.max(...dateline(r).map((s) => s.maxRssMb)) < 250);
  t("no errors (PostgreSQL, 100k)", pg100,
    (r) => `${dateline(r).reduce((a, s) => a + s.bad + s.errors, 0)} bad responses / errors (incl. timeouts); ${r.serverErrorsUnderLoad ?? "?"} errors logged under load`,
    (r) => dateline(r).every((s) => s.bad + s.errors === 0) && !r.serverErrorsUnderLoad);
  // The query budget of §2, as the Server-Timing header reports it.
  const budget = (r: RunRecord) => {
    const max = (n: string) => find(r, n)?.statements?.max;
    const checks: [string, number | undefined, number][] = [
      ["article miss", max(RANDOM), 1], ["article hit", max(HOT), 0], ["304", max(R304), 0],
      ["latest", max(LATEST), 2], ["front", max(FRONT), 2], ["popular", max(POPULAR), 2], ["comments", max("comments list"), 2],
    ];
    return checks;
  };
  t("SQL statements per request (§2 budget, Server-Timing on a sample after the warm-up, so lists are cache hits): article miss ≤ 1, hit 0, 304 0, other public GETs ≤ 2", pg100,
    (r) => budget(r).map(([k, v]) => `${k} ${v ?? "?"}`).join(", "),
    (r) => (budget(r).some(([, v]) => v === undefined) ? undefined : budget(r).every(([, v, lim]) => v! <= lim)));
  t("search (issue 9 §1), PostgreSQL, 100k: ≥ 300 req/s, p99 < 100 ms", pg100,
    (r) => (find(r, "search") ? `${rate(r, "search")} req/s, p99 ${find(r, "search")?.p99} ms` : "not run"),
    (r) => { const s = find(r, "search"); return s ? s.reqPerSec >= 300 && s.p99 < 100 : undefined; });
  t("PGlite, 10k: article by random slug ≥ 1,000 req/s, p99 < 100 ms", lite10,
    (r) => `${rate(r, RANDOM)} req/s, p99 ${find(r, RANDOM)?.p99} ms`,
    (r) => { const s = find(r, RANDOM); return s && s.reqPerSec >= 1000 && s.p99 < 100; });
  t("PGlite, 10k: RSS < 400 MB", lite10,
    (r) => `max ${Math.max(...dateline(r).map((s) => s.maxRssMb))} MB`, (r) => Math.max(...dateline(r).map((s) => s.maxRssMb)) < 400);

  const m = runs[0]?.machine;
  const lines: string[] = [];
  lines.push("# Benchmark results", "");
  lines.push("Written by `npm run bench` (bench/run.ts) from the runs recorded in `bench/results/*.json`;",
    "each run overwrites its own file (`<database>-<articles>.json`) and regenerates this page.",
    "Every figure comes from one run on this machine, with the load generator (autocannon, in the bench",
    "process) sharing the CPU with the server under test: compare runs made on the same machine only.", "");
  if (m) {
    lines.push("## Machine", "");
    lines.push(`- ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB memory, ${m.os}`);
    lines.push(`- Node.js ${m.node}`);
    for (const r of runs) lines.push(`- ${r.label}: ${r.databaseVersion}`);
    lines.push("");
  }
  lines.push("## Targets (issue 8 §4, and issue 9's search)", "");
  lines.push("| target | run | measured | |", "|---|---|---|---|");
  for (const [target, run, measured, ok] of targets) lines.push(`| ${target} | ${run} | ${measured} | ${mark(ok)} |`);
  lines.push("");
  // Why a target is missed is analysis, not a measurement: kept by hand in
  // bench/ANALYSIS.md and carried into every regenerated page.
  const analysis = new URL("./ANALYSIS.md", import.meta.url);
  if (fs.existsSync(analysis)) lines.push(fs.readFileSync(analysis, "utf8").trim(), "");
  lines.push("## Runs", "");
  for (const r of runs) {
    lines.push(`### ${r.label}`, "");
    lines.push(`- ${r.date}: \`${r.command}\``);
    lines.push(`- ${r.databaseVersion}; corpus: ${Object.entries(r.corpus).map(([k, v]) => `${k} ${v.toLocaleString("en-US")}`).join(", ")}`);
    lines.push(`- corpus built in ${r.corpusSeconds.toFixed(1)} s; Dateline ready (/readyz) ${r.startupSeconds.toFixed(1)} s after spawn; RSS idle ${r.rssIdleMb ?? "?"} MB, after the load ${r.rssAfterMb ?? "?"} MB`);
    if (r.loadAverage) lines.push(`- 1-minute load average ${r.loadAverage.atStart} when Dateline started, ${r.loadAverage.atEnd} at the end (${r.machine.nproc} CPUs; above that, other processes competed with the benchmark)`);
    lines.push(`- ${r.settings.connections} connections, ${r.settings.warmupSeconds} s warm-up then ${r.settings.durationSeconds} s per scenario; LOG_LEVEL=${r.settings.logLevel}${r.settings.poolSize ? `, DATABASE_POOL_SIZE=${r.settings.poolSize}` : ""}; article response ${r.articleBytes} bytes`);
    lines.push("");
    lines.push("| scenario | req/s | p50 ms | p99 ms | responses | status codes | not 2xx/3xx | errors (incl. timeouts) | timeouts | max RSS MB | SQL statements / request | CPU %: server / autocannon / other | req per server CPU-second |");
    lines.push("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---|---:|");
    for (const s of r.scenarios) {
      const codes = Object.entries(s.statusCounts).map(([c, n]) => `${c}: ${n}`).join(", ");
      lines.push(`| ${s.name} | ${s.reqPerSec} | ${s.p50} | ${s.p99} | ${s.responses} | ${codes} | ${s.bad} | ${s.errors} | ${s.timeouts} | ${s.maxRssMb} | ${isCeiling(s) ? "0 (no database)" : stmts(s)} | ${s.cpuShare ? `${s.cpuShare.server} / ${s.cpuShare.loadGenerator} / ${s.cpuShare.other}` : "—"} | ${perCpu(s, r) ?? "—"} |`);
    }
    lines.push("");
    const mix = find(r, RANDOM)?.statementsPerResponse;
    if (mix) {
      const total = Object.values(mix).reduce((a, b) => a + b, 0);
      lines.push(`- Article by random slug, SQL statements per response over the warm-up and the load (0 = in-process cache hit): ${Object.entries(mix).map(([k, v]) => `${k}: ${v} (${Math.round((v / total) * 100)} %)`).join(", ")}`, "");
    }
    if (r.notes.length) {
      for (const n of r.notes) lines.push(`- Note: ${n}`);
      lines.push("");
    }
  }
  if (before.length) {
    lines.push("## Before: the same benchmark on the code before the read model and cache", "");
    lines.push("Runs kept in `bench/results/before/` (made with this benchmark while the public reads still rebuilt every response from the normalized tables, 2026-11-26 around 12:00). req/s, p99 ms and SQL statements per request:", "");
    const names = before[0].scenarios.map((s) => s.name);
    lines.push(`| scenario | ${before.map((r) => r.label).join(" | ")} |`, `|---|${before.map(() => "---|").join("")}`);
    for (const n of names) {
      lines.push(`| ${n} | ${before.map((r) => { const s = find(r, n); return s ? `${s.reqPerSec} req/s, p99 ${s.p99}, ${isCeiling(s) ? "0" : stmts(s)}` : "—"; }).join(" | ")} |`);
    }
    lines.push("");
  }
  lines.push("## Scenarios", "");
  lines.push(
    "- **article by random slug**: `GET /api/v1/articles/<slug>`, each request a random slug over all articles (cache misses dominate). SQL statements are sampled on 30 slugs the load never requests (misses).",
    "- **article by slug, 100 hot**: the same over the 100 newest articles (cache hits after the warm-up).",
    "- **latest 20**: `GET /api/v1/latest?limit=20`; **section front**: `GET /api/v1/sections/desk-1/front`; **popular 24h**: `GET /api/v1/popular?window=24h`; **comments list**: `GET /api/v1/articles/<newest>/comments` (about 400 approved comments).",
    "- **304 revalidation**: the hot article with `If-None-Match: <its ETag>`; the run checks with node:http that it answers 304 and counts the 304s.",
    "- **ceilings**: the hot article's exact bytes from a minimal Express 5 app (`res.json` of the parsed document, and `res.send` of the bytes) and from a bare `node:http` server, each its own process, no database.",
    "- CPU %: shares of the whole machine's CPU capacity (all cores = 100) during the measured load, from /proc: the server process, the bench process (autocannon), and everything else (PostgreSQL's backends serving the server, and any other work on the machine: a large \"other\" on the ceilings means the run was disturbed).",
    "- req per server CPU-second: req/s divided by the server's CPU use (cores), a figure less sensitive than req/s to other work on the machine.",
    "- RSS: the server process's VmRSS from /proc, sampled every 200 ms during the load (max). SQL statements per request: the `Server-Timing: db;desc=\"<n> statements\"` header on a sample of responses taken right after the warm-up (\"unknown\" when the server does not send it).",
    "",
  );
  return lines.join("\n");
}
