// I/O scenarios (issue 10): io_ready, echo_1, echo_1000, idle_10k.
// The idiomatic Go design: a server goroutine per connection doing blocking
// Read/Write on net.Conn (the netpoller parks it), a client goroutine per
// connection. kin-bench runs the same design (bench/kin_bench.c): TCP_NODELAY
// on every socket (Go's default), 64-byte messages, clients closed with
// SO_LINGER 0 so no TIME_WAIT uses up loopback's ephemeral ports.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const msgSize = 64

// extra is a scenario's extra figures, printed on stderr after its line;
// ownMs, when >= 0, is the scenario's own timed part.
var extra string
var ownMs float64 = -1

// io_ready: write one byte into a socketpair, read it back; the read is ready
// at once. Timed: conn.Read on a net.Conn (the netpoller's fd, tries read(2)
// first). Also measured: plain syscall.Read on the same socket.
func ioReady(n int) int64 {
	sv, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		panic(err)
	}
	c := []byte{'x'}
	r := make([]byte, 1)
	// plain read(2) on a dup of the same socket (non-blocking once FileConn
	// set it; the data is always there, so read(2) costs the same)
	pfd, err := syscall.Dup(sv[0])
	if err != nil {
		panic(err)
	}
	f := os.NewFile(uintptr(sv[0]), "pair")
	conn, err := net.FileConn(f) // a dup of the fd, non-blocking, on the netpoller
	if err != nil {
		panic(err)
	}
	f.Close()
	var ok int64
	var plain, nr time.Duration
	for done := 0; done < n; { // blocks of 1000, interleaved: no order bias
		b := n - done
		if b > 1000 {
			b = 1000
		}
		t0 := time.Now()
		for i := 0; i < b; i++ {
			if w, _ := syscall.Write(sv[1], c); w != 1 {
				panic("write")
			}
			if k, _ := syscall.Read(pfd, r); k != 1 {
				panic("read")
			}
		}
		t1 := time.Now()
		for i := 0; i < b; i++ {
			if w, _ := syscall.Write(sv[1], c); w != 1 {
				panic("write")
			}
			if k, _ := conn.Read(r); k == 1 {
				ok++
			}
		}
		t2 := time.Now()
		plain += t1.Sub(t0)
		nr += t2.Sub(t1)
		done += b
	}
	syscall.Close(pfd)
	conn.Close()
	syscall.Close(sv[1])
	p := float64(plain.Nanoseconds()) / float64(n)
	q := float64(nr.Nanoseconds()) / float64(n)
	extra = fmt.Sprintf("io_ready plain ns/op=%.1f conn.Read ns/op=%.1f overhead=%.1f", p, q, q-p)
	ownMs = float64(nr.Nanoseconds()) / 1e6
	return ok
}

func listenAny() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	return ln
}

var parked, servedEOF atomic.Int64

// A server goroutine per connection: echo 64-byte messages until EOF.
func serveConn(c net.Conn, wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, msgSize)
	for {
		parked.Add(1)
		if _, err := io.ReadFull(c, buf); err != nil {
			break
		}
		if _, err := c.Write(buf); err != nil {
			break
		}
	}
	servedEOF.Add(1)
	c.Close()
}

// Accepts conns connections, a goroutine each.
func acceptN(ln net.Listener, conns int, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; i < conns; i++ {
		c, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		wg.Add(1)
		go serveConn(c, wg)
	}
}

func closeAbort(c net.Conn) {
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
}

func echoRun(n, conns int) int64 {
	if conns > n {
		conns = n
	}
	lat := make([]float64, n)
	ln := listenAny()
	addr := ln.Addr().String()
	var okAll atomic.Int64
	t0 := time.Now()
	var srv sync.WaitGroup
	srv.Add(1)
	go acceptN(ln, conns, &srv)
	var cl sync.WaitGroup
	per, ext := n/conns, n%conns
	for idx := 0; idx < conns; idx++ {
		rounds := per
		off := idx * per
		if idx < ext {
			rounds++
			off += idx
		} else {
			off += ext
		}
		cl.Add(1)
		go func(idx, rounds, off int) {
			defer cl.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				panic(err)
			}
			out := make([]byte, msgSize)
			in := make([]byte, msgSize)
			for k := range out {
				out[k] = byte('a' + idx%26)
			}
			var ok int64
			for i := 0; i < rounds; i++ {
				s := time.Now()
				out[0] = byte(i)
				if _, err := c.Write(out); err != nil {
					break
				}
				if _, err := io.ReadFull(c, in); err != nil {
					break
				}
				lat[off+i] = float64(time.Since(s).Nanoseconds()) / 1e3
				if string(in) == string(out) {
					ok++
				}
			}
			closeAbort(c)
			okAll.Add(ok)
		}(idx, rounds, off)
	}
	cl.Wait()
	srv.Wait()
	ms := float64(time.Since(t0).Nanoseconds()) / 1e6
	ln.Close()
	sort.Float64s(lat)
	extra = fmt.Sprintf("echo conns=%d req/s=%.0f p50_us=%.1f p99_us=%.1f",
		conns, float64(n)/(ms/1e3), lat[n/2], lat[int(float64(n)*0.99)])
	return okAll.Load()
}

func rssNowKiB() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var pages, res int64
	fmt.Sscan(string(b), &pages, &res)
	return res * int64(os.Getpagesize()) / 1024
}

func maxRSSKiB() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss
}

// idle_10k: n connections, each held by a server goroutine parked in a Read;
// the client ends are held by the main goroutine.
// The baseline is taken once, before the first repetition: a later one
// reuses the memory the first left resident (kin's stack cache, Go's heap),
// so a baseline taken before it would hide the connections' cost.
var idleMaxRSS0, idleRSS0 int64

func idle(n int) int64 {
	if idleMaxRSS0 == 0 {
		idleMaxRSS0, idleRSS0 = maxRSSKiB(), rssNowKiB()
	}
	maxrss0, rss0 := idleMaxRSS0, idleRSS0
	parked.Store(0)
	servedEOF.Store(0)
	ln := listenAny()
	addr := ln.Addr().String()
	var srv sync.WaitGroup
	srv.Add(1)
	go acceptN(ln, n, &srv)
	cs := make([]net.Conn, n)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			panic(err)
		}
		cs[i] = c
	}
	for parked.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	peak, cur := maxRSSKiB(), rssNowKiB()
	extra = fmt.Sprintf("idle conns=%d maxrss_kib=%d (before %d) bytes/conn=%.0f statm_rss_kib=%d (before %d) bytes/conn=%.0f",
		n, peak, maxrss0, float64(peak-maxrss0)*1024/float64(n), cur, rss0, float64(cur-rss0)*1024/float64(n))
	for _, c := range cs {
		closeAbort(c)
	}
	srv.Wait()
	ln.Close()
	return servedEOF.Load()
}

// Two fds per connection in one process: soft limit to the hard one, and the
// hard one up too when allowed (root), as kin-bench does.
func raiseNofile(need uint64) {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return
	}
	if rl.Max < need {
		up := syscall.Rlimit{Cur: need, Max: need}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) == nil {
			return
		}
	}
	rl.Cur = rl.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}
