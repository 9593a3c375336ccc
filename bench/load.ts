/** Activation load for bench:host: wrk with a Lua script, or a Node load generator without it. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, pinned, runTool } from './procs.js';

const LOADGEN = join(ROOT, 'bench/dist/load-gen.js');

export type RunResult = {
  ok: number;
  non2xx: number;
  other: number;
  socketErrors: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
};

const WRK_SCRIPT = `
local setupKey = "@SETUPKEY@"
local alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local b64u = alnum .. "-_"
local hex = "0123456789abcdef"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function rnd(set, n)
  local t = {}
  local len = #set
  for i = 1, n do
    local k = math.random(1, len)
    t[i] = set:sub(k, k)
  end
  return table.concat(t)
end

function init(args)
  ok = 0
  non2xx = 0
  other = 0
  seq = 0
  math.randomseed(tonumber(args[1]) or os.time())
  wrk.method = "POST"
  wrk.path = "/v1/activate"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  seq = seq + 1
  -- random like the UUIDs clients make: an ID with a fixed prefix would land in one corner of
  -- an index on machine IDs and hide what random ones cost it
  local body = '{"v":1,"machineId":"' .. rnd(hex, 32) .. '-' .. seq ..
    '","fingerprintHash":"' .. rnd(b64u, 43) ..
    '","setupKey":"' .. setupKey ..
    '","nonce":"' .. rnd(b64u, 22) ..
    '","clientTime":' .. string.format("%.0f", os.time() * 1000) ..
    ',"licenseState":"initialGrace","vm":false}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status < 200 or status > 299 then
    non2xx = non2xx + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o, n, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    n = n + t:get("non2xx")
    x = x + t:get("other")
  end
  local e = summary.errors
  io.write(string.format("BENCH ok=%d non2xx=%d other=%d duration_us=%d socket_errors=%d p50_us=%d p99_us=%d\\n",
    o, n, x, summary.duration, e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

async function runWrk(wrkScript: string, connections: number, url: string, seconds: number): Promise<RunResult> {
  const [cmd, args] = pinned(1, 'wrk', [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '-s',
    wrkScript,
    url,
    '--',
    String(randomBytes(4).readUInt32LE()),
  ]);
  const r = await runTool(cmd, args, seconds);
  const m =
    /BENCH ok=(\d+) non2xx=(\d+) other=(\d+) duration_us=(\d+) socket_errors=(\d+) p50_us=(\d+) p99_us=(\d+)/.exec(
      r.stdout ?? '',
    );
  if (!m) throw new Error(`wrk failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const n = m.slice(1).map(Number) as number[];
  return {
    ok: n[0]!,
    non2xx: n[1]!,
    other: n[2]!,
    seconds: n[3]! / 1e6,
    socketErrors: n[4]!,
    p50Ms: n[5]! / 1000,
    p99Ms: n[6]! / 1000,
  };
}

async function runNodeLoad(connections: number, url: string, seconds: number, setupKey: string): Promise<RunResult> {
  const [cmd, args] = pinned(1, process.execPath, [LOADGEN, url, String(seconds), String(connections), setupKey]);
  const r = await runTool(cmd, args, seconds);
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let j: { ok: number; non2xx: number; other: number; errors: number; seconds: number; p50Ms: number; p99Ms: number };
  try {
    j = JSON.parse(line);
  } catch {
    throw new Error(`load generator failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return {
    ok: j.ok,
    non2xx: j.non2xx,
    other: j.other,
    socketErrors: j.errors,
    seconds: j.seconds,
    p50Ms: j.p50Ms,
    p99Ms: j.p99Ms,
  };
}

/** wrk on the PATH; as root on Debian, installs the package once (apt-get install -y wrk). */
function haveWrk(): boolean {
  const found = () => spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;
  if (found()) return true;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).error !== undefined)
    return false;
  console.log('wrk is not installed; trying apt-get install -y wrk');
  let r = spawnSync('apt-get', ['install', '-y', 'wrk'], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    r = spawnSync('apt-get', ['install', '-y', 'wrk'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  return found();
}

export type Load = {
  /** Whether wrk makes the load (else bench/load-gen.ts, slower but with nothing to install). */
  wrk: boolean;
  run(url: string, seconds: number): Promise<RunResult>;
};

/**
 * The load generator for activations with `setupKey` over `connections` connections, pinned to
 * core 1: wrk with its Lua script written into `dir`, unless BENCH_LOADGEN=node or wrk cannot be had.
 */
export function makeLoad(dir: string, setupKey: string, connections: number): Load {
  if (process.env.BENCH_LOADGEN !== 'node' && haveWrk()) {
    const wrkScript = join(dir, 'activate.lua');
    writeFileSync(wrkScript, WRK_SCRIPT.replace('@SETUPKEY@', setupKey));
    return { wrk: true, run: (url, seconds) => runWrk(wrkScript, connections, url, seconds) };
  }
  return { wrk: false, run: (url, seconds) => runNodeLoad(connections, url, seconds, setupKey) };
}
