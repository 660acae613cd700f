#!/usr/bin/env python3
"""The gdb stub from the outside (docs/gdb.md).

usage: gdb_session.py DISCO_EXE GDBTARGET_ELF [--engine interp|jit] [--raw] [--machine]

Default: gdb-multiarch in batch mode against `disco run --gdb tcp::0
--gdb-wait` on the gdbtarget guest (tests/guest/gdbtarget.c): a breakpoint
on bump() is hit at its address, registers and memory read back (memory
as in the ELF), stepi advances the pc by 4, a write to `counter` changes
what the guest computes, and continue runs the guest to its power-off:
gdb sees it exit with the guest's status, and so does disco. Skips (77)
when gdb-multiarch is not installed.

--raw: the protocol spoken by hand over a socket, no gdb needed: garbage
bytes, bad checksums, oversized and malformed packets, register and
memory access (unmapped addresses fail cleanly), single steps, Ctrl-C of
a spinning guest, detach (the guest runs on), attaching to a running
guest, a second client refused, an abrupt disconnect and a reconnect;
then the guest runs to completion and disco exits 0. Also `k` (kill).

--machine: the same with two VMs on one machine (--vms 2), gdb on vm1
(--gdb-vm vm1); vm0 runs on its own, and the exit status is vm1's.
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 60  # seconds for the whole session (disco --timeout too)


def fail(msg, *outputs):
    for out in outputs:
        if out:
            sys.stdout.write(out[-6000:] + "\n")
    print(f"FAIL: {msg}")
    sys.exit(1)


# --- the ELF ----------------------------------------------------------------

class Elf:
    """Just enough ELF64 for symbols and loaded bytes."""

    def __init__(self, path):
        self.data = open(path, "rb").read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2:
            raise ValueError(f"{path}: not an ELF64 file")
        self.e = "<" if d[5] == 1 else ">"
        e = self.e
        (self.phoff, self.shoff) = struct.unpack_from(e + "QQ", d, 0x20)
        (self.phentsize, self.phnum, self.shentsize, self.shnum) = struct.unpack_from(e + "HHHH", d, 0x36)
        self.segments = []
        for i in range(self.phnum):
            off = self.phoff + i * self.phentsize
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(e + "IIQQQQ", d, off)
            if p_type == 1:
                self.segments.append((p_vaddr, p_offset, p_filesz))
        self.symbols = {}
        sections = []
        for i in range(self.shnum):
            off = self.shoff + i * self.shentsize
            sections.append(struct.unpack_from(e + "IIQQQQIIQQ", d, off))
        for s in sections:
            if s[1] != 2:  # SHT_SYMTAB
                continue
            strtab = sections[s[6]]
            for k in range(s[5] // 24):
                name_off, _info, _other, _shndx, value, _size = struct.unpack_from(e + "IBBHQQ", d, s[4] + k * 24)
                start = strtab[4] + name_off
                name = d[start:d.index(b"\0", start)].decode()
                if name:
                    self.symbols[name] = value

    def read(self, vaddr, n):
        for va, off, size in self.segments:
            if va <= vaddr and vaddr + n <= va + size:
                return self.data[off + vaddr - va: off + vaddr - va + n]
        raise KeyError(hex(vaddr))

    def words(self, vaddr, n):
        return list(struct.unpack(self.e + "I" * n, self.read(vaddr, 4 * n)))


# --- disco ------------------------------------------------------------------

class Disco:
    """`disco run --gdb tcp::0 --gdb-wait ...` with its port and output."""

    machine = False  # --machine: two VMs, gdb on vm1

    def __init__(self, exe, elf, engine, extra=()):
        cmd = [exe, "run", "--kernel", elf, "--engine", engine, "--deterministic",
               "--gdb", "tcp::0", "--gdb-wait", "--timeout", str(DEADLINE)] + list(extra)
        if Disco.machine:
            self.consoles = tempfile.TemporaryDirectory(prefix="disco-gdb-")
            cmd += ["--vms", "2", "--gdb-vm", "vm1", "--console-dir", self.consoles.name]
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.err_lines = []
        self.out = b""
        self.port = None
        self.port_ready = threading.Event()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.out_thread = threading.Thread(target=self._read_out, daemon=True)
        self.out_thread.start()
        if not self.port_ready.wait(10) or self.port is None:
            self.p.kill()
            fail("disco did not print its gdb port", self.stderr())

    def _read_err(self):
        for raw in self.p.stderr:
            line = raw.decode("utf-8", "replace")
            self.err_lines.append(line)
            m = re.search(r"gdb: listening on tcp:[^:]*:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self.port_ready.set()
        self.port_ready.set()

    def _read_out(self):
        self.out = self.p.stdout.read()

    def stdout(self):
        return self.out.decode("utf-8", "replace")

    def stderr(self):
        return "".join(self.err_lines)

    def wait(self, timeout=DEADLINE):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("disco did not exit", self.stdout(), self.stderr())
        self.out_thread.join(5)
        time.sleep(0.1)  # the stderr reader's last lines
        return rc


# --- gdb-multiarch ----------------------------------------------------------

def gdb_session(exe, elf_path, engine):
    gdb = shutil.which("gdb-multiarch")
    if not gdb:
        print("SKIP: gdb-multiarch is not installed (apt-get install gdb-multiarch)")
        sys.exit(77)
    elf = Elf(elf_path)
    bump = elf.symbols["bump"]
    counter = elf.symbols["counter"]
    disco = Disco(exe, elf_path, engine)
    cmds = [
        "set architecture mips:isa64",
        "set pagination off",
        "set confirm off",
        f"file {os.path.abspath(elf_path)}",
        f"target remote 127.0.0.1:{disco.port}",
        "echo @@START\\n", "p/x $pc",
        "break bump",
        "continue",
        "echo @@HIT1\\n", "info registers pc", "p/x $sp", "p x",
        "echo @@MEM\\n", "x/4wx bump",
        "echo @@REGS\\n", "info registers",
        "echo @@EPC\\n", "p/x $epc",
        "echo @@STEP\\n", "stepi", "p/x $pc",
        "continue",
        "echo @@HIT2\\n", "p x", "p counter",
        # bump(1) now adds to 100: the guest's sum becomes 1065, status 3.
        "set var counter = 100",
        "delete",
        "echo @@END\\n",
        "continue",
    ]
    args = [gdb, "-nx", "-batch"]
    for c in cmds:
        args += ["-ex", c]
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        disco.p.kill()
        fail("gdb-multiarch did not finish", disco.stderr())
    out = r.stdout.decode("utf-8", "replace")
    rc = disco.wait()
    both = (out, disco.stdout() + disco.stderr())

    def section(name):
        m = re.search(r"@@" + name + r"\n(.*?)(?=@@|\Z)", out, re.S)
        if not m:
            fail(f"no {name} section in gdb's output", *both)
        return m.group(1)

    if not re.search(r"= 0xffffffff80100000\b", section("START")):
        fail("gdb did not see the pc at the ELF entry before the first instruction", *both)
    hit1 = section("HIT1")
    if not re.search(r"Breakpoint 1, bump \(x=0\)", out):
        fail("breakpoint on bump not reported as hit with x=0", *both)
    if not re.search(r"pc\s+0x%x\b" % bump, hit1) and f"pc: {bump:#x}" not in hit1:
        fail(f"pc at the breakpoint is not bump's address {bump:#x}", *both)
    m = re.search(r"\$\d+ = (0x[0-9a-f]+)", hit1)
    if not m or not (0xffffffff80100000 < int(m.group(1), 16) < 0xffffffff81000000):
        fail("$sp is not in the guest's kseg0 image", *both)
    words = [int(w, 16) for w in re.findall(r"0x[0-9a-f]{8}\b", section("MEM").split(":", 1)[1])]
    if words != elf.words(bump, 4):
        fail(f"x/4wx bump read {[hex(w) for w in words]}, the ELF has {[hex(w) for w in elf.words(bump, 4)]}", *both)
    regs = section("REGS")
    for name in ("zero", "sp", "ra", "status", "badvaddr", "cause", "pc", "fcsr", "fir", "epc"):
        if not re.search(r"\b" + name + r"\b", regs):
            fail(f"'info registers' does not show {name}", *both)
    if not re.search(r"\$\d+ = 0x0\b", section("EPC")):
        fail("$epc is not readable", *both)
    if not re.search(r"\$\d+ = 0x%x\b" % (bump + 4), section("STEP")):
        fail(f"stepi did not advance the pc to {bump + 4:#x}", *both)
    hit2 = section("HIT2")
    if not re.search(r"\$\d+ = 1\b", hit2):
        fail("the second hit is not bump(1)", *both)
    if "exited with code 03" not in section("END"):
        fail("gdb did not see the guest exit with status 3", *both)
    if rc != 3:
        fail(f"disco exited with {rc}, expected the guest's status 3", *both)
    if "gdbtarget: sum 1065" not in disco.stdout():
        fail("the guest did not see gdb's write to counter", *both)
    print(f"PASS: gdb session on {engine}: breakpoint at bump {bump:#x}, counter at {counter:#x}, "
          "registers, memory, stepi, memory write, exit status 3" + (" (vm1 of two)" if Disco.machine else ""))


# --- the protocol by hand ---------------------------------------------------

def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode("latin-1")
    return b"$" + payload + b"#%02x" % (sum(payload) & 0xff)


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, raw):
        self.s.sendall(raw)

    def byte(self):
        while not self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def reply(self):
        """The next packet's payload (acks before it are skipped); acks it."""
        while True:
            b = self.byte()
            if b == b"$":
                break
            if b not in b"+-":
                raise AssertionError(f"unexpected byte {b!r} outside a packet")
        body = b""
        while True:
            b = self.byte()
            if b == b"#":
                break
            body += b
        cs = self.byte() + self.byte()
        if int(cs, 16) != sum(body) & 0xff:
            raise AssertionError(f"bad checksum from the stub on {body!r}")
        self.send(b"+")
        return body.decode("latin-1")

    def ask(self, payload):
        self.send(frame(payload))
        return self.reply()

    def expect_ack(self, want=b"+"):
        got = self.byte()
        if got != want:
            raise AssertionError(f"expected {want!r}, got {got!r}")

    def close(self):
        self.s.close()


def reg64(hexstr, e):
    return struct.unpack(e + "Q", bytes.fromhex(hexstr))[0]


def hex64(v, e):
    return struct.pack(e + "Q", v).hex()


def raw_session(exe, elf_path, engine):
    elf = Elf(elf_path)
    e = elf.e
    bump = elf.symbols["bump"]
    entry = 0xffffffff80100000
    disco = Disco(exe, elf_path, engine)
    out = lambda: (disco.stdout(), disco.stderr())
    try:
        # 1. Noise, bad checksums, oversized and malformed packets.
        c = Client(disco.port)
        c.send(b"hello, world\r\n\x00\xff}}}###")
        c.send(b"$g#00")
        c.expect_ack(b"-")
        c.send(b"$" + b"a" * 20000 + b"#00")
        c.expect_ack(b"-")
        sup = c.ask("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+")
        assert "PacketSize=" in sup and "swbreak+" in sup, sup
        assert c.ask("?").startswith("T05"), "initial stop is not SIGTRAP"
        g = c.ask("g")
        assert len(g) == 73 * 16, f"g reply of {len(g)} hex digits"
        pc = reg64(c.ask("p25"), e)
        assert pc == entry, hex(pc)
        assert bytes.fromhex(c.ask(f"m{entry:x},10")) == elf.read(entry, 16), "m does not match the ELF"
        for bad in ("m", "mzz,4", "m1000", "M1000,4", "Mffffffff80200000,4:dead", "Pzz=00", "p99",
                    "G00", "Z0,zz,4", "Z0", "vCont;x", "Xffffffff80200000,1:}", "czz"):
            r = c.ask(bad)
            assert r.startswith("E"), f"{bad!r} answered {r!r}"
        for unknown in ("qFrobnicate", "vMustReplyEmpty", "QStartNoAckMode", "!", "Z2,ffffffff80200000,4"):
            r = c.ask(unknown)
            assert r == "", f"{unknown!r} answered {r!r}"
        # Unmapped and device addresses: an error, the guest untouched.
        # (Address 0 is RAM here: Status.ERL is set until crt0 clears it.)
        for addr in (0xffffffffc0000000, 0x4000000000000000, 0xffffffffbfd00000):
            r = c.ask(f"m{addr:x},4")
            assert r == "E01", f"m at {addr:#x} answered {r!r}"
        assert c.ask("g") == g, "failed accesses changed registers"

        # 2. Single steps through the protocol's own step packets.
        assert c.ask("s").startswith("T05")
        assert reg64(c.ask("p25"), e) == entry + 4
        assert c.ask("vCont;s:1").startswith("T05")
        assert reg64(c.ask("p25"), e) == entry + 8

        # 3. A spinning guest ("b ." with a nop) at the pc, stopped by Ctrl-C.
        spin_at = entry + 8
        saved = c.ask(f"m{spin_at:x},8")
        spin = struct.pack(e + "II", 0x1000ffff, 0)
        assert c.ask(f"M{spin_at:x},8:{spin.hex()}") == "OK"
        c.send(frame("c"))
        c.expect_ack()
        time.sleep(0.5)
        assert disco.p.poll() is None, "disco exited while the guest spins"
        c.send(b"\x03")
        stop = c.reply()
        assert stop.startswith("T02"), f"Ctrl-C answered {stop!r}"
        assert reg64(c.ask("p25"), e) in (spin_at, spin_at + 4)

        # 4. Detach: the guest spins on; a new client stops it on attaching.
        assert c.ask("D") == "OK"
        c.close()
        time.sleep(0.3)
        assert disco.p.poll() is None, "disco exited after a detach"
        c = Client(disco.port)
        c.ask("qSupported:swbreak+")
        stop = c.ask("?")
        assert stop.startswith("T02"), f"attaching to a running guest: {stop!r}"
        pc = reg64(c.ask("p25"), e)
        assert pc in (spin_at, spin_at + 4), hex(pc)
        # A second client is refused while this one is attached.
        other = socket.create_connection(("127.0.0.1", disco.port), timeout=10)
        assert other.recv(16) == b"", "a second client was served"
        other.close()
        # Gone without a word: with --gdb-wait the guest waits, stopped.
        c.send(b"$m0,4")  # and half a packet
        c.close()
        time.sleep(0.3)
        assert disco.p.poll() is None, "disco exited after a disconnect"

        # 5. Reconnect, undo the spin loop, break on bump, run to the end.
        c = Client(disco.port)
        c.ask("qSupported:swbreak+")
        assert c.ask("?").startswith("T02")
        assert c.ask(f"M{spin_at:x},8:{saved}") == "OK"
        assert c.ask("P25=" + hex64(spin_at, e)) == "OK"
        assert c.ask(f"Z0,{bump:x},4") == "OK"
        stop = c.ask("vCont;c")
        assert stop.startswith("T05") and "swbreak:" in stop, f"breakpoint stop {stop!r}"
        assert reg64(c.ask("p25"), e) == bump
        # Step from the breakpoint itself (still inserted), then go on.
        assert c.ask("s").startswith("T05")
        assert reg64(c.ask("p25"), e) == bump + 4
        stop = c.ask("c")
        assert stop.startswith("T05") and reg64(c.ask("p25"), e) == bump, "second call of bump missed"
        assert c.ask(f"z0,{bump:x},4") == "OK"
        end = c.ask("c")
        assert end == "W00", f"end of the guest reported as {end!r}"
        c.close()
    except (AssertionError, EOFError, OSError, KeyError) as ex:
        disco.p.kill()
        disco.wait()
        fail(f"{type(ex).__name__}: {ex}", *out())
    rc = disco.wait()
    done = "[vm1] PASS" if Disco.machine else "PASS"
    if rc != 0 or done not in disco.stdout():
        fail(f"the guest did not complete after the session (status {rc})", *out())

    # 6. Kill from the client: disco exits at once.
    disco = Disco(exe, elf_path, engine)
    try:
        c = Client(disco.port)
        c.ask("qSupported")
        c.send(frame("k"))
        c.expect_ack()
    except (AssertionError, EOFError, OSError) as ex:
        disco.p.kill()
        disco.wait()
        fail(f"kill: {type(ex).__name__}: {ex}", *out())
    rc = disco.wait(20)
    if rc != 0 or "killed from gdb" not in disco.stderr() or done in disco.stdout():
        fail(f"k did not end disco cleanly (status {rc})", *out())
    print(f"PASS: raw protocol session on {engine}" + (" (vm1 of two)" if Disco.machine else ""))


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        sys.exit(2)
    exe, elf = args[0], args[1]
    engine = args[args.index("--engine") + 1] if "--engine" in args else "interp"
    Disco.machine = "--machine" in args
    if "--raw" in args:
        raw_session(exe, elf, engine)
    else:
        gdb_session(exe, elf, engine)


if __name__ == "__main__":
    main()
