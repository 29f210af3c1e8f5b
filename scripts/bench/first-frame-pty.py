# Pty driver for scripts/bench/first-frame.ts (no node-pty here): reads one JSON job on stdin, starts each
# variant on a fresh pseudo-terminal (80x24 unless told), and times from just before fork until the
# marker text has appeared on the terminal `count` times (one time per appearance; then the process is
# killed), or, without a marker, until the process exits. Prints one JSON object on stdout.
#   job: {"runs": N, "warmup": N, "timeoutMs": N, "cols": 80, "rows": 24, "cwd": DIR, "env": {...},
#         "variants": [{"name": S, "argv": [..], "marker": S | null, "count": N (default 1)}]}
#   out: {"samples": {name: [[ms, ...], ...]}, "problems": [S, ...]}  (one list of times per run)
import fcntl, json, os, pty, select, signal, struct, sys, termios, time

job = json.load(sys.stdin)
cols, rows = job.get('cols', 80), job.get('rows', 24)
timeout = job.get('timeoutMs', 10000) / 1000
env = job['env']
variants = job['variants']


def once(v):
    marker = v['marker'].encode() if v['marker'] is not None else None
    count = v.get('count', 1)
    times = []
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
            os.chdir(job['cwd'])
            os.execvpe(v['argv'][0], v['argv'], env)
        finally:
            os._exit(127)
    out, found, status = b'', None, None
    deadline = t0 + timeout
    try:
        while found is None and status is None and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.01)
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: every slave end is closed, the child is gone
                    data = b''
                if data:
                    out += data
                    while marker is not None and out.count(marker) > len(times):
                        times.append(time.monotonic())
                    if len(times) >= count:
                        found = times[-1]
                        break
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                if marker is None:
                    found = time.monotonic()
                    times.append(found)
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        os.close(fd)
    if found is None:
        tail = out[-300:].decode('utf-8', 'replace')
        what = f'{count}x {marker.decode()!r} ({len(times)} seen)' if marker else 'exit'
        return None, f"{v['name']}: no {what} within {timeout:.0f} s (status {status}); last output: {tail!r}"
    if marker is None and os.waitstatus_to_exitcode(status) != 0:
        return None, f"{v['name']}: exit {os.waitstatus_to_exitcode(status)}"
    return [round((t - t0) * 1000, 1) for t in times], None


samples = {v['name']: [] for v in variants}
problems = []
for rnd in range(job['warmup'] + job['runs']):
    # Each round starts at a different variant, so none always runs right after the same one.
    for k in range(len(variants)):
        v = variants[(rnd + k) % len(variants)]
        ms, problem = once(v)
        if problem is not None:
            problems.append(problem)
        elif rnd >= job['warmup']:
            samples[v['name']].append(ms)
json.dump({'samples': samples, 'problems': problems}, sys.stdout)
