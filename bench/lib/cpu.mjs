// CPU accounting from /proc: a process's CPU time, and the whole machine's busy time.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** CPU seconds (user + system, all threads) a process has used, from /proc. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds all cores spent busy (or stolen by the hypervisor) since boot, from
 * /proc/stat: with our own processes' share taken out, what is left is other load on the
 * machine during a measurement.
 */
export function systemBusySeconds() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(
    Number,
  );
  const [user, nice, system, , , irq, softirq, steal] = fields; // idle and iowait left out
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}
