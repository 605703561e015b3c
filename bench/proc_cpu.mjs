// CPU time a process has used so far (user + system, seconds), from /proc/PID/stat: the benches
// read it before and after a window to report a server's CPU share.
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;  // Linux's USER_HZ on every architecture we run on

export function cpuSeconds(pid) {
  // Fields after the command name (which may hold spaces, hence the split on ") "): utime is
  // the 14th field of the line, stime the 15th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
