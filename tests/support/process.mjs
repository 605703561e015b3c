// The one way the JavaScript tests start another program (the server, ffmpeg): output
// collected, an `exited` promise, and every child SIGKILLed if the test process exits first,
// so no process outlives its test.
import { spawn } from 'node:child_process';

const children = new Set();
process.on('exit', () => {
  for (const p of children) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// Starts `cmd args`; `onOutput(text)` gets stdout and stderr as they come (both by default
// collected in `output`). Returns { proc, exited: Promise<{code, signal, output}>, kill(sig) }.
export function startProcess(cmd, args, { env = process.env, onOutput = null, stdout = true } = {}) {
  const proc = spawn(cmd, args, { env, stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'] });
  children.add(proc);
  const child = { proc, output: '' };
  const take = (d) => {
    const text = d.toString();
    if (onOutput) onOutput(text);
    else child.output += text;
  };
  proc.stdout?.on('data', take);
  proc.stderr.on('data', take);
  child.exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
    children.delete(proc);
    resolve({ code, signal, output: child.output });
  }));
  child.running = () => proc.exitCode === null && proc.signalCode === null;
  child.kill = (signal = 'SIGKILL') => {
    try { proc.kill(signal); } catch { /* already gone */ }
    return child.exited;
  };
  // SIGTERM, then SIGKILL after `graceMs`.
  child.stop = async (graceMs = 10_000) => {
    if (!child.running()) return child.exited;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const result = await child.exited;
    clearTimeout(timer);
    return result;
  };
  return child;
}
