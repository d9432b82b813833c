// Go peer of kin's benchmarks.
//
// Usage: bench SCENARIO N [REPS]
// Prints, per repetition, one line:  SCENARIO n=N check=C ms=M ns/op=X
// Written for Debian 12's Go 1.19, standard library only; see
// bench/peers/README.md for what each scenario measures and why it is fair.
//
// One-thread scenarios run with GOMAXPROCS=1: run.sh sets it, and when the
// GOMAXPROCS variable is unset the program sets it itself, so the binary run by
// hand measures the same thing. BENCH_THREADS=1 makes spawn_cpu run on one P.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var scenarios = []string{
	"spawn", "spawn_mt", "spawn_cpu", "yield", "async", "park",
	"timers", "cancel", "supervise", "with_context", "mutex",
	"io_ready", "echo_1", "echo_1000", "idle_10k",
	"chan_pingpong", "chan_buffered", "flow_chain",
}

// Scenarios that Kotlin runs on runBlocking's single-thread event loop.
var oneThread = map[string]bool{
	"spawn": true, "yield": true, "async": true, "park": true,
	"timers": true, "cancel": true, "supervise": true,
	"chan_pingpong": true, "chan_buffered": true,
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "bench (go): %s\n", msg)
	fmt.Fprintf(os.Stderr, "usage: bench SCENARIO N [REPS]\n")
	fmt.Fprintf(os.Stderr, "  SCENARIO: %s\n", strings.Join(scenarios, " "))
	fmt.Fprintf(os.Stderr, "  N > 0, REPS > 0 (default 1); BENCH_THREADS=1 runs spawn_cpu on one P\n")
	os.Exit(2)
}

// ---------------------------------------------------------------- scenarios
// Each returns the check value; main() times the call.

// spawn / spawn_mt: N empty goroutines joined by a WaitGroup; each counts itself.
func spawn(n int) int64 {
	var done atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			done.Add(1)
			wg.Done()
		}()
	}
	wg.Wait()
	return done.Load()
}

// spawn_cpu: N goroutines each spinning ~10 us of CPU.
var spinIters int

func spin(iters int, seed uint64) uint64 {
	x := seed | 1 // xorshift64: never reaches 0 from a non-zero seed
	for k := 0; k < iters; k++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// Calibration: the fastest of many ~10 us runs, so a time slice lost to another
// process does not count (a long probe would be stretched by it).
func calibrateSpin() {
	var sink uint64
	iters := 4096
	for round := 0; round < 3; round++ {
		best := time.Duration(1 << 62)
		for r := 0; r < 2000; r++ {
			t0 := time.Now()
			sink += spin(iters, sink)
			if d := time.Since(t0); d < best {
				best = d
			}
		}
		iters = int(float64(iters) * 10_000 / float64(best.Nanoseconds()))
		if iters < 1 {
			iters = 1
		}
	}
	spinIters = iters
	bang := ""
	if sink == 42 {
		bang = "!"
	}
	fmt.Fprintf(os.Stderr, "spawn_cpu: %d iterations per child (~10 us; %.3f ns/iteration)%s\n",
		spinIters, 10_000/float64(spinIters), bang)
}

func spawnCPU(n int) int64 {
	var done atomic.Int64
	var wg sync.WaitGroup
	iters := spinIters
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			if spin(iters, uint64(i)+1) != 0 {
				done.Add(1)
			}
			wg.Done()
		}(i)
	}
	wg.Wait()
	return done.Load()
}

// yield: two goroutines each calling runtime.Gosched N times on one P.
func yieldBench(n int) int64 {
	var yields [2]int64
	var wg sync.WaitGroup
	wg.Add(2)
	for g := 0; g < 2; g++ {
		go func(g int) {
			for k := 0; k < n; k++ {
				runtime.Gosched()
				yields[g]++
			}
			wg.Done()
		}(g)
	}
	wg.Wait()
	return yields[0] + yields[1]
}

// async: N goroutines each delivering i through its own one-slot channel (Go's
// future); the results are received in order and summed.
func asyncBench(n int) int64 {
	futures := make([]chan int64, n)
	for i := 0; i < n; i++ {
		f := make(chan int64, 1)
		futures[i] = f
		go func(i int) { f <- int64(i) }(i)
	}
	var sum int64
	for _, f := range futures {
		sum += <-f
	}
	return sum
}

// park: N goroutines all asleep at once in a 1 s sleep.
func park(n int) int64 {
	var woke atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(time.Second)
			woke.Add(1)
			wg.Done()
		}()
	}
	wg.Wait()
	return woke.Load()
}

// timers: N goroutines each sleeping (i mod 1000) ms.
func timers(n int) int64 {
	var fired atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(d time.Duration) {
			time.Sleep(d)
			fired.Add(1)
			wg.Done()
		}(time.Duration(i%1000) * time.Millisecond)
	}
	wg.Wait()
	return fired.Load()
}

// cancel: N goroutines blocked in select on ctx.Done() and a 1 hour timer;
// cancel() and wait for all of them.
var cancelOnly time.Duration

func cancelBench(n int) int64 {
	ctx, cancel := context.WithCancel(context.Background())
	var cancelled atomic.Int64
	var started, wg sync.WaitGroup
	started.Add(n)
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer wg.Done()
			t := time.NewTimer(time.Hour)
			started.Done()
			select {
			case <-ctx.Done():
				t.Stop()
				cancelled.Add(1)
			case <-t.C:
			}
		}()
	}
	// Every goroutine has started; on one P the last one reaches its select
	// before this goroutine runs again, so all N are blocked.
	started.Wait()
	runtime.Gosched()
	t0 := time.Now()
	cancel()
	wg.Wait()
	cancelOnly = time.Since(t0)
	return cancelled.Load()
}

// supervise: N goroutines returning (value, error); every tenth fails. Errors
// are collected per goroutine and checked in order; survivors' values summed.
type failure struct{ index int }

func (f *failure) Error() string { return "child " + strconv.Itoa(f.index) + " failed" }

func child(i int) (int64, error) {
	if i%10 == 0 {
		return 0, &failure{i}
	}
	return 1, nil
}

type result struct {
	v   int64
	err error
}

func supervise(n int) int64 {
	results := make([]result, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			v, err := child(i)
			results[i] = result{v, err}
		}(i)
	}
	wg.Wait()
	var sum int64
	for i := range results {
		if results[i].err != nil {
			continue // expected: the failure is observed when collecting
		}
		sum += results[i].v
	}
	return sum
}

// mutex: 1,000 goroutines (fewer if N < 1,000) each lock a sync.Mutex,
// increment a plain counter and unlock, N in total. Every core
// (BENCH_THREADS=1: one P).
func mutexBench(n int) int64 {
	k := 1000
	if n < k {
		k = n
	}
	var mu sync.Mutex
	var count int64
	var wg sync.WaitGroup
	wg.Add(k)
	for c := 0; c < k; c++ {
		times := n / k
		if c < n%k {
			times++
		}
		go func(times int) {
			for i := 0; i < times; i++ {
				mu.Lock()
				count++
				mu.Unlock()
			}
			wg.Done()
		}(times)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return count
}

// with_context: N request/response round trips to a separate goroutine.
func withContextBench(n int) int64 {
	req := make(chan int)
	resp := make(chan int)
	go func() {
		for x := range req {
			resp <- x
		}
	}()
	var ok int64
	for i := 0; i < n; i++ {
		req <- i
		if <-resp == i {
			ok++
		}
	}
	close(req)
	return ok
}

// chan_pingpong: N round trips between two goroutines on one P over two
// unbuffered channels (ping -> ponger, pong -> back), as kin's
// rendezvous channels; check = round trips that came back as i+1.
func chanPingpong(n int) int64 {
	ping := make(chan int64)
	pong := make(chan int64)
	go func() {
		for k := 0; k < n; k++ {
			v := <-ping
			pong <- v + 1
		}
	}()
	var ok int64
	for i := int64(0); i < int64(n); i++ {
		ping <- i
		if <-pong == i+1 {
			ok++
		}
	}
	return ok
}

// chan_buffered: N elements through a 1024-element buffered channel, one
// producer goroutine, the main goroutine consuming, on one P; check =
// elements that arrived in order.
func chanBuffered(n int) int64 {
	ch := make(chan int64, 1024)
	go func() {
		for i := int64(0); i < int64(n); i++ {
			ch <- i
		}
	}()
	var ok int64
	for i := int64(0); i < int64(n); i++ {
		if <-ch == i {
			ok++
		}
	}
	return ok
}

// flow_chain: kin's map/filter/take chain (kin's flow_chain scenario) as Go
// writes it: the goroutine-and-channel pipeline of the Go blog's
// "Pipelines and cancellation" -- a source goroutine sends 0..n-1, a map
// goroutine (x*3), a filter goroutine (even values), unbuffered channels,
// and the main goroutine takes n/2 values, then closes done, which stops
// every stage (the take). ns/op is per source element; check = values
// taken (n/2). Every P (GOMAXPROCS = cores): the stages then run in
// parallel, which is Go's best here (about twice as fast as on one P on
// the 2-core machine this was written on); kin's chain runs on one thread.
func flowChain(n int) int64 {
	want := int64(n / 2)
	if want == 0 {
		return 0
	}
	done := make(chan struct{})
	src := make(chan int64)
	go func() {
		defer close(src)
		for i := int64(0); i < int64(n); i++ {
			select {
			case src <- i:
			case <-done:
				return
			}
		}
	}()
	mapped := make(chan int64)
	go func() {
		defer close(mapped)
		for v := range src {
			select {
			case mapped <- v * 3:
			case <-done:
				return
			}
		}
	}()
	filtered := make(chan int64)
	go func() {
		defer close(filtered)
		for v := range mapped {
			if v%2 == 0 {
				select {
				case filtered <- v:
				case <-done:
					return
				}
			}
		}
	}()
	var cnt, sum int64
	for v := range filtered {
		cnt++
		sum += v
		if cnt == want {
			break
		}
	}
	close(done)
	if sum != 3*want*(want-1) { // 0, 6, 12, ...: 6 * (0 + 1 + ... + want-1)
		return -1
	}
	return cnt
}

// ---------------------------------------------------------------- driver

func positive(s, what string) int {
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		usage(fmt.Sprintf("%s must be a positive integer, got '%s'", what, s))
	}
	return v
}

func main() {
	args := os.Args[1:]
	if len(args) < 2 || len(args) > 3 {
		usage("expected SCENARIO N [REPS]")
	}
	scenario := args[0]
	known := false
	for _, s := range scenarios {
		known = known || s == scenario
	}
	if !known {
		usage(fmt.Sprintf("unknown scenario '%s'", scenario))
	}
	n := positive(args[1], "N")
	reps := 1
	if len(args) == 3 {
		reps = positive(args[2], "REPS")
	}

	if (scenario == "spawn_cpu" || scenario == "mutex") && os.Getenv("BENCH_THREADS") == "1" {
		runtime.GOMAXPROCS(1)
	} else if oneThread[scenario] && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	if scenario == "spawn_cpu" {
		calibrateSpin()
	}
	if scenario == "idle_10k" || scenario == "echo_1000" {
		raiseNofile(uint64(2*n + 64))
	}

	for rep := 0; rep < reps; rep++ {
		runtime.GC() // start each repetition on a clean heap (untimed)
		t0 := time.Now()
		var check int64
		switch scenario {
		case "spawn", "spawn_mt":
			check = spawn(n)
		case "spawn_cpu":
			check = spawnCPU(n)
		case "yield":
			check = yieldBench(n)
		case "async":
			check = asyncBench(n)
		case "park":
			check = park(n)
		case "timers":
			check = timers(n)
		case "cancel":
			check = cancelBench(n)
		case "supervise":
			check = supervise(n)
		case "with_context":
			check = withContextBench(n)
		case "mutex":
			check = mutexBench(n)
		case "io_ready":
			check = ioReady(n)
		case "echo_1":
			check = echoRun(n, 1)
		case "echo_1000":
			check = echoRun(n, 1000)
		case "idle_10k":
			check = idle(n)
		case "chan_pingpong":
			check = chanPingpong(n)
		case "chan_buffered":
			check = chanBuffered(n)
		case "flow_chain":
			check = flowChain(n)
		}
		ns := time.Since(t0).Nanoseconds()
		ms := float64(ns) / 1e6
		if ownMs >= 0 { // the scenario timed its own part
			ms, ownMs = ownMs, -1
		}
		fmt.Printf("%s n=%d check=%d ms=%.3f ns/op=%.1f\n", scenario, n, check, ms, ms*1e6/float64(n))
		if scenario == "cancel" {
			fmt.Fprintf(os.Stderr, "cancel-only ms: %.3f\n", float64(cancelOnly.Nanoseconds())/1e6)
		}
		if extra != "" {
			fmt.Fprintln(os.Stderr, extra)
			extra = ""
		}
	}
}
