#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side test of bench/report.py: synthetic raw logs in the format of
bench/guest-bench.sh, one where every target is met and copies of it each
broken in one way a review found report.py blind to; each break must turn
its target into "missed".  Standard library only."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
S = 10**9
K = "6.1.0-57-amd64"


def gmg(t, **ev):
    return f"gmg t={t} {json.dumps(ev)}"


def lead_run(name, mode, launch, kill=None, warn=None, eta=None, alarms=0,
             horizon_ms=None, extra=()):
    """The lines of one scenario run; times in seconds after boot."""
    hz = f" horizon_ms={horizon_ms}" if horizon_ms else ""
    out = [f"@lead {name}/{mode} launch t={launch * S} life=0{hz}",
           f"@lead {name}/{mode} exit status={137 if kill else 0}"]
    body = [f"start t={launch * S}"]
    if warn is not None:
        body.append(gmg(warn * S, event="warn", time_ns=warn * S, pid=100))
    if eta is not None:
        body.append(gmg(eta * S, event="eta", time_ns=eta * S, pid=100,
                        eta_limit="memcg_max", eta_ms=5000))
    for i in range(alarms):
        body.append(gmg((launch + 1 + i) * S, event="eta", time_ns=(launch + 1 + i) * S,
                        pid=100, eta_limit="memcg_max", eta_ms=9000))
    body += list(extra)
    if kill is not None:
        body.append(gmg(kill * S, event="oom", time_ns=kill * S, victim_comm=name,
                        lead_ms=1))
        body.append(f"events t={kill * S} high=0 max=9 oom=1 oom_kill=1")
    body.append(f"end t={(launch + 40) * S}")
    return out + [f"@lead {name}/{mode} {x}" for x in body]


def good_log():
    """Every target met."""
    lines = [f"@env - kernel={K} guest=any cpus=1 mem_kib=2500000 module=0.1.0"]
    for mode, rnd in (("none", 1), ("loaded", 1), ("cgtag", 1)):
        lines.append(f"@fork {mode} {rnd} forks=200 ns=1000000000 ns_per_fork=5000000")
    lines.append("@ovh exits-quiet round=1 forks=200 delta=200")
    t = 100
    for name in ("goleak", "cgoleak", "tmpfswriter", "gcburst-oom"):
        eta = t + 5 if name != "gcburst-oom" else None
        lines += lead_run(name, "max", t, kill=t + 10, warn=t + 5 if eta is None else None,
                          eta=eta)
        t += 50
    for name, mode in (("gcburst-ok", "max"), ("cachereader", "max"),
                       ("gcburst-ok", "high"), ("cachereader", "high")):
        lines += lead_run(name, mode, t)
        t += 50
    lines += lead_run("warmup", "svc", t, horizon_ms=20000)
    lines += lead_run("gcburst", "svc", t + 50, horizon_ms=20000)
    lines += lead_run("gcleak", "svc", t + 100, kill=t + 140, eta=t + 120, horizon_ms=20000)
    mcg = gmg((t + 160) * S, event="eta", time_ns=(t + 160) * S, eta_limit="memcg_max",
              eta_ms=20000)
    lines += lead_run("tmpfs-sh", "svc", t + 150, kill=t + 180, horizon_ms=20000,
                      extra=[mcg])
    lines += ["@lead tmpfs-sh/svc pm OOM kill #2", "@lead tmpfs-sh/svc pm   killing dd[314] "
              "freed 1 MiB; 254 MiB is tmpfs in /bench.svc", "@lead tmpfs-sh/svc pm "]
    lines += lead_run("shloop", "svc", t + 250, horizon_ms=20000)
    lines.append("@lead shloop/svc quiet before=10 after=50")
    lines += ["@scale sleepers n=10000", "@scale slab-before kmalloc512_objs=1000 "
              "sunreclaim=100000000", "@scale tagged n=10001 ns=2000000000",
              "@scale slab-after kmalloc512_objs=11001 sunreclaim=105000000",
              "@scale show entries=10001 ns=12000000000"]
    for what in ("none", "tagged", "none"):
        lines.append(f"@scale pf-{what} bytes=268435456 ns=4000000000 ns_per_page=61035")
    lines.append("@scale settle s=240")
    for ns in (4000000000, 4010000000, 4000000000):
        lines.append(f"@scale pf-settled bytes=268435456 ns={ns} ns_per_page=61035")
    lines.append("@done -")
    return lines


def replace_run(lines, label, new):
    """@lines with the run @label ("name/mode") replaced by @new."""
    out = [x for x in lines if not x.startswith(f"@lead {label} ")]
    i = next(i for i, x in enumerate(out) if x.startswith("@scale"))
    return out[:i] + new + out[i:]


class ReportTest(unittest.TestCase):
    def report(self, lines):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, f"{K}.live.log")
            with open(log, "w") as f:
                f.write("\n".join(lines) + "\n")
            res = subprocess.run([sys.executable, os.path.join(HERE, "report.py"),
                                  "--out", os.path.join(d, "r.md"), log],
                                 capture_output=True, text=True, check=True)
            with open(os.path.join(d, "r.md")) as f:
                md = f.read()
        self.assertIn(d, res.stdout, "the raw logs' location is not printed")
        self.assertIn(d, md, "the raw logs' location is not in the report")
        rows = {}
        for line in md.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) == 4 and cells[0] == K:
                rows[cells[1]] = (cells[2], cells[3])
        return rows

    def verdict(self, rows, start):
        hits = [v for k, v in rows.items() if k.startswith(start)]
        self.assertEqual(1, len(hits), f"no single target row starting {start!r}: {rows}")
        return hits[0]

    def test_good_log_meets_every_target(self):
        rows = self.report(good_log())
        self.assertTrue(rows)
        for target, (measured, verdict) in rows.items():
            self.assertEqual("met", verdict, f"{target}: {measured}")

    def test_a_leak_that_never_oomed_is_a_miss(self):
        lines = replace_run(good_log(), "goleak/max", lead_run("goleak", "max", 100))
        measured, verdict = self.verdict(self.report(lines), "every OOM scenario OOMs")
        self.assertEqual("missed", verdict)
        self.assertIn("goleak/max no OOM", measured)

    def test_the_memcgs_own_eta_is_tmpfswriters_forecast(self):
        # tmpfs growth is no process's: the memcg's ETA (no pid) is the
        # forecast, judged against the horizon like a process's.
        def tmpfs(eta_at):
            mcg = gmg(eta_at * S, event="eta", time_ns=eta_at * S, eta_limit="memcg_max",
                      eta_ms=5000)
            return lead_run("tmpfswriter", "max", 200, kill=210, extra=[mcg])
        rows = self.report(replace_run(good_log(), "tmpfswriter/max", tmpfs(205)))
        measured, verdict = self.verdict(rows, "eta event within")
        self.assertEqual("met", verdict, measured)
        self.assertIn("tmpfswriter 1.00x", measured)
        rows = self.report(replace_run(good_log(), "tmpfswriter/max", tmpfs(209)))
        measured, verdict = self.verdict(rows, "eta event within")
        self.assertEqual("missed", verdict)
        self.assertIn("tmpfswriter 0.20x", measured)

    def test_a_kill_without_a_warning_is_a_miss(self):
        lines = replace_run(good_log(), "gcburst-oom/max",
                            lead_run("gcburst-oom", "max", 250, kill=260))
        measured, verdict = self.verdict(self.report(lines), "every OOM scenario OOMs")
        self.assertEqual("missed", verdict)
        self.assertIn("gcburst-oom/max not warned", measured)

    def test_a_false_alarm_in_the_gc_sawtooth_is_a_miss(self):
        lines = replace_run(good_log(), "gcburst-ok/high",
                            lead_run("gcburst-ok", "high", 400, alarms=2))
        measured, verdict = self.verdict(self.report(lines), "no false alarm")
        self.assertEqual("missed", verdict)
        self.assertIn("gcburst-ok/high 2", measured)

    def test_a_false_alarm_in_a_service_scenario_is_a_miss(self):
        rows = self.report(replace_run(good_log(), "warmup/svc",
                                       lead_run("warmup", "svc", 500, alarms=1,
                                                horizon_ms=20000)))
        self.assertEqual("missed", self.verdict(rows, "no false alarm")[1])
        self.assertEqual("missed", self.verdict(rows, "issue 14 (a)")[1])

    def test_memory_per_tag_is_not_rounded(self):
        lines = [x.replace("kmalloc512_objs=11001", "kmalloc512_objs=15000")
                 for x in good_log()]
        measured, verdict = self.verdict(self.report(lines), "memory per tag")
        self.assertEqual("missed", verdict)
        self.assertIn("716.7 B", measured)

    def test_fork_children_not_adopted_is_a_miss(self):
        lines = [x for x in good_log() if not x.startswith("@ovh exits-quiet")]
        self.assertEqual("missed", self.verdict(self.report(lines),
                                                "fork+exit (cgroup tag")[1])
        lines = [x.replace("delta=200", "delta=3") for x in good_log()]
        self.assertEqual("missed", self.verdict(self.report(lines),
                                                "fork+exit (cgroup tag")[1])

    def test_tmpfs_without_a_memcg_eta_is_a_miss(self):
        t = 650
        lines = replace_run(good_log(), "tmpfs-sh/svc",
                            lead_run("tmpfs-sh", "svc", t, kill=t + 30, horizon_ms=20000))
        measured, verdict = self.verdict(self.report(lines), "issue 14 (d)")
        self.assertEqual("missed", verdict)
        self.assertIn("no memcg", measured)

    def test_an_older_report_or_a_program_name_does_not_name_the_tmpfs(self):
        t = 650
        mcg = gmg((t + 5) * S, event="eta", time_ns=(t + 5) * S, eta_limit="memcg_max")
        pm = ["OOM kill #2", "  killed:  dd[314]", "", "OOM kill #1",
              "  killed:  tmpfswriter[285]", "  254 MiB is tmpfs in /bench.lead"]
        lines = replace_run(good_log(), "tmpfs-sh/svc",
                            lead_run("tmpfs-sh", "svc", t, kill=t + 30, horizon_ms=20000,
                                     extra=[mcg]) +
                            [f"@lead tmpfs-sh/svc pm {x}" for x in pm])
        measured, verdict = self.verdict(self.report(lines), "issue 14 (d)")
        self.assertEqual("missed", verdict)
        self.assertIn("does not name the tmpfs", measured)

    def test_exit_events_of_a_shell_loop_are_a_miss(self):
        ex = [gmg(751 * S, event="exit", time_ns=751 * S, pid=300 + i) for i in range(3)]
        lines = replace_run(good_log(), "shloop/svc",
                            lead_run("shloop", "svc", 750, horizon_ms=20000, extra=ex) +
                            ["@lead shloop/svc quiet before=10 after=50"])
        measured, verdict = self.verdict(self.report(lines), "issue 14 (e)")
        self.assertEqual("missed", verdict)
        self.assertIn("3 exit events", measured)

    def test_a_missing_scenario_is_reported(self):
        lines = [x for x in good_log() if not x.startswith("@lead gcleak/svc ")]
        self.assertEqual(("not run", "missed"), self.verdict(self.report(lines),
                                                             "issue 14 (c)"))

    def test_settled_faults_not_measured_are_a_miss(self):
        lines = [x for x in good_log()
                 if not x.startswith(("@scale pf-settled", "@scale settle"))]
        rows = self.report(lines)
        self.assertEqual(("not run", "missed"),
                         self.verdict(rows, "page faults, untagged, 10001 others tagged, settled"))
        self.assertEqual("met", self.verdict(rows, "page faults, untagged, 10001 others just")[1])

    def test_a_slow_settled_round_counts_in_full(self):
        # One round in three met a wave of samples: the mean sees it.
        lines = [x for x in good_log() if not x.startswith("@scale pf-settled")]
        i = next(i for i, x in enumerate(lines) if x.startswith("@done"))
        lines[i:i] = [f"@scale pf-settled bytes=268435456 ns={ns} ns_per_page=61035"
                      for ns in (4000000000, 4000000000, 4100000000)]
        measured, verdict = self.verdict(self.report(lines),
                                         "page faults, untagged, 10001 others tagged, settled")
        self.assertEqual("missed", verdict)
        self.assertEqual("1.0083", measured)


if __name__ == "__main__":
    unittest.main(verbosity=2)
