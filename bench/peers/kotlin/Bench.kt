// kotlinx.coroutines peer of kin's benchmarks.
//
// Usage: BenchKt SCENARIO N [REPS]
// Prints, per repetition, one line:  SCENARIO n=N check=C ms=M ns/op=X
// Written for Debian's kotlinc 1.3.31 and kotlinx.coroutines 1.0.1; see
// bench/peers/README.md for what each scenario measures and why it is fair.

import kotlinx.coroutines.*
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.sync.Mutex
import java.util.Locale
import java.util.concurrent.atomic.AtomicLong
import kotlin.system.exitProcess

val SCENARIOS = listOf(
    "spawn", "spawn_mt", "spawn_cpu", "yield", "async", "park",
    "timers", "cancel", "supervise", "with_context", "mutex",
    "chan_pingpong", "chan_buffered", "chan_mpmc"
)

fun usage(msg: String): Nothing {
    System.err.println("bench (kotlin): $msg")
    System.err.println("usage: BenchKt SCENARIO N [REPS]")
    System.err.println("  SCENARIO: ${SCENARIOS.joinToString(" ")}")
    System.err.println("  N > 0, REPS > 0 (default 1); BENCH_THREADS=1 runs spawn_cpu on one worker")
    exitProcess(2)
}

// ---------------------------------------------------------------- scenarios
// Each returns the check value; main() times the call.

// spawn: N empty launches in one coroutineScope, on runBlocking's event loop (one thread).
fun spawn(n: Int): Long = runBlocking {
    var done = 0L
    coroutineScope {
        repeat(n) { launch { done++ } }
    }
    done
}

// spawn_mt: the same on Dispatchers.Default (one worker per core).
fun spawnMt(n: Int): Long = runBlocking(Dispatchers.Default) {
    val done = AtomicLong()
    coroutineScope {
        repeat(n) { launch { done.incrementAndGet() } }
    }
    done.get()
}

// spawn_cpu: N launches each spinning ~10 us of CPU. The spawning coroutine runs on
// the same dispatcher as the children, so BENCH_THREADS=1 really is one worker.
var spinIters = 0

fun spin(iters: Int, seed: Long): Long {
    var x = seed or 1L                    // xorshift64: never reaches 0 from a non-zero seed
    for (k in 0 until iters) {
        x = x xor (x shl 13)
        x = x xor (x ushr 7)
        x = x xor (x shl 17)
    }
    return x
}

// Calibration: the fastest of many ~10 us runs, so a time slice lost to another
// process does not count (a long probe would be stretched by it).
fun calibrateSpin() {
    if (spinIters != 0) return
    var sink = 0L
    // Warm the JIT first (about 0.3 s of spinning).
    val warmEnd = System.nanoTime() + 300_000_000L
    while (System.nanoTime() < warmEnd) sink += spin(10_000, sink)
    var iters = 4096
    var best = Long.MAX_VALUE
    repeat(3) {
        best = Long.MAX_VALUE
        repeat(2000) {
            val t0 = System.nanoTime()
            sink += spin(iters, sink)
            best = minOf(best, System.nanoTime() - t0)
        }
        iters = maxOf(1, (iters * 10_000.0 / best).toInt())
    }
    spinIters = iters
    System.err.println(String.format(Locale.ROOT,
        "spawn_cpu: %d iterations per child (~10 us; %.3f ns/iteration)%s",
        spinIters, 10_000.0 / spinIters, if (sink == 42L) "!" else ""))
}

fun spawnCpu(n: Int, dispatcher: CoroutineDispatcher): Long = runBlocking(dispatcher) {
    val done = AtomicLong()
    val iters = spinIters
    coroutineScope {
        repeat(n) { i ->
            launch { if (spin(iters, i.toLong() + 1) != 0L) done.incrementAndGet() }
        }
    }
    done.get()
}

// yield: two coroutines each yielding N times on one thread.
fun yieldBench(n: Int): Long = runBlocking {
    var yields = 0L
    coroutineScope {
        repeat(2) {
            launch {
                repeat(n) {
                    yield()
                    yields++
                }
            }
        }
    }
    yields
}

// chan_pingpong: N round trips between two coroutines on runBlocking's
// thread over two rendezvous channels (Channel()): ping -> ponger, pong ->
// back; check = round trips that came back as i+1.
fun chanPingpong(n: Int): Long = runBlocking {
    val ping = Channel<Long>()
    val pong = Channel<Long>()
    launch {
        repeat(n) { pong.send(ping.receive() + 1) }
    }
    var ok = 0L
    for (i in 0L until n.toLong()) {
        ping.send(i)
        if (pong.receive() == i + 1) ok++
    }
    ok
}

// chan_buffered: N elements through Channel(1024), one producer coroutine,
// runBlocking's coroutine consuming, on one thread; check = elements that
// arrived in order.
fun chanBuffered(n: Int): Long = runBlocking {
    val ch = Channel<Long>(1024)
    launch {
        for (i in 0L until n.toLong()) ch.send(i)
    }
    var ok = 0L
    for (i in 0L until n.toLong()) {
        if (ch.receive() == i) ok++
    }
    ok
}

// chan_mpmc: N elements through Channel(1024) from 4 producer coroutines to
// 4 consumer coroutines on Dispatchers.Default (every core); check = the
// elements received (the consumers iterate until the channel is closed
// after the producers are done).
fun chanMpmc(n: Int): Long = runBlocking(Dispatchers.Default) {
    val side = 4
    val ch = Channel<Long>(1024)
    val got = AtomicLong()
    val consumers = List(side) {
        launch {
            var k = 0L
            for (x in ch) k++
            got.addAndGet(k)
        }
    }
    coroutineScope {
        repeat(side) { p ->
            val share = n / side + (if (p < n % side) 1 else 0)
            launch { for (i in 0L until share.toLong()) ch.send(i) }
        }
    }
    ch.close()
    consumers.forEach { it.join() }
    got.get()
}

// async: N async { i }, awaited in order and summed, on one thread.
fun asyncBench(n: Int): Long = runBlocking {
    val results = arrayOfNulls<Deferred<Long>>(n)
    for (i in 0 until n) results[i] = async { i.toLong() }
    var sum = 0L
    for (d in results) sum += d!!.await()
    sum
}

// park: N coroutines all suspended at once in delay(1000), on one thread.
fun park(n: Int): Long = runBlocking {
    var woke = 0L
    coroutineScope {
        repeat(n) { launch { delay(1000); woke++ } }
    }
    woke
}

// timers: N coroutines each delaying (i mod 1000) ms, on one thread.
fun timers(n: Int): Long = runBlocking {
    var fired = 0L
    coroutineScope {
        repeat(n) { i -> launch { delay((i % 1000).toLong()); fired++ } }
    }
    fired
}

// cancel: N children suspended in a 1 hour delay under one parent; cancel + join it.
var cancelOnlyNs = 0L

fun cancelBench(n: Int): Long = runBlocking {
    var started = 0
    var cancelled = 0L
    val parent = launch {
        repeat(n) {
            launch {
                started++
                try {
                    delay(3_600_000L)
                } catch (e: CancellationException) {
                    cancelled++
                    throw e
                }
            }
        }
    }
    while (started < n) yield()   // every child is now suspended in delay
    val t0 = System.nanoTime()
    parent.cancel()
    parent.join()
    cancelOnlyNs = System.nanoTime() - t0
    cancelled
}

// supervise: N async under a supervisorScope, every tenth fails; sum the survivors.
// Failure is a stackless exception: what is measured is the coroutine machinery's
// failure path, not the JVM's stack walk (Go's errors carry no stack either).
class Failure(val index: Int) : Exception("child failed", null, false, false)

fun supervise(n: Int): Long = runBlocking {
    supervisorScope {
        val results = arrayOfNulls<Deferred<Long>>(n)
        for (i in 0 until n) {
            results[i] = async {
                if (i % 10 == 0) throw Failure(i)
                1L
            }
        }
        var sum = 0L
        for (d in results) {
            try {
                sum += d!!.await()
            } catch (e: Failure) {
                // expected: the failure is observed at await
            }
        }
        sum
    }
}

// with_context: N round trips from runBlocking's thread to Dispatchers.IO and back.
fun withContextBench(n: Int): Long = runBlocking {
    var ok = 0L
    for (i in 0 until n) {
        if (withContext(Dispatchers.IO) { i } == i) ok++
    }
    ok
}

// mutex: 1,000 coroutines (fewer if N < 1,000) on the dispatcher each lock a
// Mutex, increment a plain counter and unlock, N in total.
fun mutexBench(n: Int, dispatcher: CoroutineDispatcher): Long = runBlocking(dispatcher) {
    val k = minOf(1000, n)
    val mutex = Mutex()
    var count = 0L
    coroutineScope {
        repeat(k) { c ->
            val times = n / k + (if (c < n % k) 1 else 0)
            launch {
                repeat(times) {
                    mutex.lock()
                    count++
                    mutex.unlock()
                }
            }
        }
    }
    mutex.lock()
    try { count } finally { mutex.unlock() }
}

// ---------------------------------------------------------------- driver

fun main(args: Array<String>) {
    if (args.size < 2 || args.size > 3) usage("expected SCENARIO N [REPS]")
    val scenario = args[0]
    if (scenario !in SCENARIOS) usage("unknown scenario '$scenario'")
    val n = args[1].toIntOrNull() ?: usage("N must be a positive integer, got '${args[1]}'")
    if (n <= 0) usage("N must be a positive integer, got '${args[1]}'")
    val reps = if (args.size == 3) (args[2].toIntOrNull() ?: usage("REPS must be a positive integer, got '${args[2]}'")) else 1
    if (reps <= 0) usage("REPS must be a positive integer, got '${args[2]}'")

    val oneWorker = System.getenv("BENCH_THREADS") == "1"
    var pool: ExecutorCoroutineDispatcher? = null
    if (scenario == "spawn_cpu") calibrateSpin()
    if ((scenario == "spawn_cpu" || scenario == "mutex") && oneWorker)
        pool = newFixedThreadPoolContext(1, "bench-worker")

    for (rep in 0 until reps) {
        System.gc()   // start each repetition on a clean heap (untimed)
        val t0 = System.nanoTime()
        val check = when (scenario) {
            "spawn" -> spawn(n)
            "spawn_mt" -> spawnMt(n)
            "spawn_cpu" -> spawnCpu(n, pool ?: Dispatchers.Default)
            "yield" -> yieldBench(n)
            "async" -> asyncBench(n)
            "park" -> park(n)
            "timers" -> timers(n)
            "cancel" -> cancelBench(n)
            "supervise" -> supervise(n)
            "with_context" -> withContextBench(n)
            "mutex" -> mutexBench(n, pool ?: Dispatchers.Default)
            "chan_pingpong" -> chanPingpong(n)
            "chan_buffered" -> chanBuffered(n)
            "chan_mpmc" -> chanMpmc(n)
            else -> usage("unknown scenario '$scenario'")
        }
        val ns = System.nanoTime() - t0
        val ms = ns / 1e6
        println(String.format(Locale.ROOT, "%s n=%d check=%d ms=%.3f ns/op=%.1f",
            scenario, n, check, ms, ms * 1e6 / n))
        System.out.flush()
        if (scenario == "cancel")
            System.err.println(String.format(Locale.ROOT, "cancel-only ms: %.3f", cancelOnlyNs / 1e6))
    }
    pool?.close()
}
