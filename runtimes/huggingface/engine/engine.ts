/**
 * Iteration-level scheduling for one model instance, as vLLM and TGI schedule: a loop in the
 * worker runs one decoder step for every running sequence together. Between steps, finished
 * and cancelled sequences leave, and waiting requests are admitted (first come, first served)
 * while the running count, the KV-cache budget and the per-step token budget allow; their
 * prompts are prefilled then, long ones in chunks so that running sequences keep getting
 * tokens. Prompts that wait together are prefilled in one padded run, or, where the engine's
 * own timings show a run's cost to grow mostly with its tokens (CPU), in back-to-back even runs,
 * as few as keep the mean time to first token near its least (prefill-cost.ts).
 *
 * KV-cache room is taken as sequences grow, as vLLM takes it: at admission for the prompt and
 * the first token, then a block at a time. When a step's sequences do not fit, cached prefix
 * blocks nobody uses go first, then the latest admitted sequence is preempted: it gives up its
 * K/V and waits first in line, to be prefilled again with the tokens it generated (its text
 * goes on where it stopped). Encoder-decoder sequences cannot be resumed so, and reserve their
 * whole max_tokens at admission instead.
 */
import { InferenceError, InvalidInputError, UnavailableError } from '../../../src/core/errors.js';
import type { EngineGauges } from '../../../src/core/engine-gauges.js';
import type { GenerationStats } from '../../../src/core/runtime.js';
import type { Decoder } from './decoder.js';
import { PrefillCost, rowsPerRun } from './prefill-cost.js';
import { PrefixCache, blockKeys } from './prefix-cache.js';
import type { Sequence } from './sequence.js';

/**
 * How long the engine waits idle before the decoder gives back the running batch's buffers:
 * long enough that clients who all finished in one step and come straight back find them.
 */
const IDLE_TRIM_MS = 1000;

/** Prompt tokens a sequence has yet to prefill. */
const remaining = (seq: Sequence) => seq.prefillIds.length - seq.prefilled;

export interface EngineLimits {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  /** Requests waiting for admission before new ones are refused (0: unbounded). */
  maxQueueSize: number;
  blockSize: number;
  /** KV-cache blocks in the budget. */
  numBlocks: number;
  prefixCaching: boolean;
  eosIds: readonly number[];
  /**
   * Prompt tokens a scored prompt (prompt logprobs) prefills per run: its logits at every
   * position are kept, a vocabulary's worth each, so a long prompt goes in chunks.
   */
  scoreChunk: number;
  /**
   * Prompt tokens (padding included) one prefill run may feed: where the graph answers every
   * position's logits, they bound that output's size; otherwise unbounded.
   */
  promptTokensPerRun: number;
}

/** Where the engine tells what it is doing and what it finished. */
export interface EngineReport {
  gauges?: EngineGauges;
  finished?: (stats: GenerationStats) => void;
}

export class Engine {
  private readonly waiting: Sequence[] = [];
  private readonly prefilling: Sequence[] = [];
  private running: Sequence[] = [];
  private readonly cache = new PrefixCache();
  private readonly prefillCost = new PrefillCost();
  private reservedBlocks = 0;
  private looping = false;
  private idle?: NodeJS.Timeout;

  constructor(
    private readonly decoder: Decoder,
    private readonly limits: EngineLimits,
    private readonly report: EngineReport = {},
  ) {
    report.gauges?.publish({ running: 0, waiting: 0, usedBlocks: 0, totalBlocks: limits.numBlocks });
  }

  /** Queues a sequence; it settles through its own callback. Throws if it can never run, or the queue is full. */
  submit(seq: Sequence): void {
    const { blockSize, numBlocks, maxQueueSize } = this.limits;
    const need = this.blocksFor(seq);
    if (need > numBlocks) {
      throw new InvalidInputError(
        `the request needs KV cache for ${seq.promptIds.length + seq.maxNew} tokens (${seq.promptIds.length} in the prompt, ` +
          `max_tokens ${seq.maxNew}), but kv_cache_memory_bytes allows ${numBlocks * blockSize} tokens; lower max_tokens or raise --kv_cache_memory_bytes`,
      );
    }
    // Preempted sequences wait too, but were accepted once: only new requests count against the limit.
    const queued = this.waiting.filter((s) => !s.preemptions).length;
    if (maxQueueSize > 0 && queued >= maxQueueSize) {
      throw new UnavailableError(`the generation queue is full (${queued} requests waiting, max_queue_size ${maxQueueSize}); retry later`);
    }
    this.waiting.push(seq);
    // Admitted at once where it fits: a burst that arrives while the loop is between steps must
    // not count against max_queue_size as if it had to wait.
    this.admit();
    this.publish();
    clearTimeout(this.idle);
    if (!this.looping) void this.loop();
  }

  /** Blocks the sequence's prompt and every token it may generate take. */
  private blocksFor(seq: Sequence): number {
    return Math.ceil((seq.promptIds.length + seq.maxNew) / this.limits.blockSize);
  }

  /** Blocks a sequence takes at admission: what its prefill and first token need, where the decoder can resume it. */
  private admissionBlocks(seq: Sequence): number {
    if (!this.decoder.resumable) return this.blocksFor(seq);
    return Math.min(Math.ceil((seq.prefillIds.length + 1) / this.limits.blockSize), this.blocksFor(seq));
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.waiting.length || this.prefilling.length || this.running.length) {
        this.dropCancelled();
        this.admit();
        const round = await this.guard([...this.prefilling], () => this.prefillRound(this.promptBudget()), { joined: [], left: 0 });
        const { joined } = round;
        // The joiners take a token each of the step's budget too.
        const left = round.left - joined.length;
        if (joined.length && left > 0 && (await this.arrivedMeanwhile())) {
          const late = await this.guard([...this.prefilling], () => this.prefillRound(left), { joined: [], left: 0 });
          joined.push(...late.joined);
        }
        this.decoder.update(new Set(), joined);
        this.running.push(...joined);
        this.makeRoom();
        if (this.running.length) await this.guard(this.running, () => this.decodeStep(), undefined);
        this.publish();
        // Let new requests and aborts in before the next step.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.looping = false;
      this.publish();
      if (this.decoder.trim) this.idle = setTimeout(() => this.decoder.trim!(), IDLE_TRIM_MS).unref();
    }
  }

  /**
   * Whether requests that came in during a prefill round are admitted now. They are prefilled
   * before the step, as vLLM schedules prefills first: a burst of arrivals (closed-loop clients
   * that all finished in one step) is otherwise split by a step between its first request and
   * the rest, and the rest wait that step for their first token. A round that left budget over
   * prefilled every sequence it had, so any now admitted are late arrivals.
   */
  private async arrivedMeanwhile(): Promise<boolean> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.dropCancelled();
    this.admit();
    return this.prefilling.length > 0;
  }

  /** Runs `work`; if the model fails, the sequences it touched fail and leave, the rest go on. */
  private async guard<T>(touched: readonly Sequence[], work: () => Promise<T>, failed: T): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const lost = new Set(touched);
      this.decoder.update(new Set(this.running.filter((s) => lost.has(s))), []);
      this.running = this.running.filter((s) => !lost.has(s));
      this.prefilling.splice(0, this.prefilling.length, ...this.prefilling.filter((s) => !lost.has(s)));
      for (const seq of lost) {
        this.release(seq);
        seq.fail(new InferenceError(`generation failed: ${reason}`));
      }
      return failed;
    }
  }

  private dropCancelled(): void {
    for (const list of [this.waiting, this.prefilling]) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (!list[i]!.signal.aborted) continue;
        const [seq] = list.splice(i, 1);
        this.finish(seq!, 'cancelled');
      }
    }
    const cancelled = new Set(this.running.filter((s) => s.signal.aborted));
    if (cancelled.size) this.leave(cancelled, 'cancelled');
  }

  private admit(): void {
    const { maxNumSeqs, numBlocks } = this.limits;
    while (this.waiting.length && this.running.length + this.prefilling.length < maxNumSeqs) {
      const seq = this.waiting[0]!;
      const keys = this.prefixKeys(seq);
      const hits = this.cache.leadingHits(keys);
      const need = this.admissionBlocks(seq) - hits;
      // Pinned first, so that making room cannot evict the blocks the sequence starts from.
      const pinned = keys.slice(0, hits);
      const blocks = this.cache.take(pinned);
      while (this.reservedBlocks + this.cache.size + need > numBlocks && this.cache.evictOne());
      if (this.reservedBlocks + this.cache.size + need > numBlocks) {
        this.cache.release(pinned);
        break;
      }
      this.waiting.shift();
      seq.blocks = need;
      this.reservedBlocks += need;
      if (hits) {
        seq.pinned = pinned;
        this.decoder.startFrom(seq, blocks);
        // A resumed sequence's hits are its own earlier blocks: usage counts the first admission's.
        if (!seq.preemptions) seq.cachedTokens = hits * this.limits.blockSize;
      }
      seq.admitted();
      this.prefilling.push(seq);
    }
  }

  /**
   * Keys of the prompt's full blocks that may come from the cache: never the block holding the
   * last prompt token, whose logits the first generated token needs, and none for a prompt to be
   * scored, whose every position's logits are needed (as vLLM, which skips the cache for prompt
   * logprobs).
   */
  private prefixKeys(seq: Sequence): string[] {
    if (!this.limits.prefixCaching || !this.decoder.prefixCaching || seq.scoresPrompt) return [];
    const usable = Math.floor((seq.prefillIds.length - 1) / this.limits.blockSize) * this.limits.blockSize;
    return blockKeys(seq.prefillIds.slice(0, usable), this.limits.blockSize);
  }

  /** The step's token budget for prompts: what the running sequences' token each leaves, at most a run's. */
  private promptBudget(): number {
    const { maxNumBatchedTokens, promptTokensPerRun } = this.limits;
    return Math.min(maxNumBatchedTokens - this.running.length, promptTokensPerRun);
  }

  /**
   * Prompt tokens up to `budget`; returns the sequences whose first token is out and that go on,
   * and the budget left.
   */
  private async prefillRound(budget: number): Promise<{ joined: Sequence[]; left: number }> {
    const joined: Sequence[] = [];
    // Only the sequences admitted before the round: those admitted during its runs go together
    // in the next round (arrivedMeanwhile) rather than one at a time here.
    let pending = this.prefilling.length;
    const group = this.prefillGroup(budget);
    if (group.length > 1) {
      const width = Math.max(...group.map(remaining));
      budget -= group.length * width;
      pending -= group.length;
      const size = rowsPerRun(group.length, width, this.prefillCost.fit());
      for (let at = 0; at < group.length; at += size) await this.prefillRun(group.slice(at, at + size), joined);
    }
    while (pending > 0 && budget > 0) {
      const seq = this.prefilling[0]!;
      const before = seq.prefilled;
      const started = performance.now();
      const logits = await this.decoder.prefill(seq, seq.scoresPrompt ? Math.min(budget, this.limits.scoreChunk) : budget);
      this.prefillCost.record(seq.prefilled - before, performance.now() - started);
      budget -= seq.prefilled - before;
      if (!logits) continue;
      this.prefilling.shift();
      pending--;
      this.firstToken(seq, logits, joined);
    }
    return { joined, left: budget };
  }

  /** The leading prompts' rest in one padded run; their first tokens go out before the next run starts. */
  private async prefillRun(seqs: Sequence[], joined: Sequence[]): Promise<void> {
    const width = Math.max(...seqs.map(remaining));
    const started = performance.now();
    const logits = await this.decoder.prefillBatch(seqs);
    this.prefillCost.record(seqs.length * width, performance.now() - started);
    this.prefilling.splice(0, seqs.length);
    seqs.forEach((seq, i) => this.firstToken(seq, logits[i]!, joined));
  }

  /**
   * The leading prompts whose rest fits the token budget as one padded batch (rows times the
   * longest rest), whether they start fresh, from cached blocks or from earlier chunks; up to the
   * first prompt to be scored, which goes alone, in chunks.
   */
  private prefillGroup(budget: number): Sequence[] {
    const group: Sequence[] = [];
    let width = 0;
    for (const seq of this.prefilling) {
      if (seq.scoresPrompt) break;
      const wider = Math.max(width, remaining(seq));
      if (wider * (group.length + 1) > budget) break;
      width = wider;
      group.push(seq);
    }
    return group;
  }

  private firstToken(seq: Sequence, logits: Float32Array, joined: Sequence[]): void {
    this.cachePrompt(seq);
    // max_tokens 0: the prompt was prefilled only to score it.
    if (seq.maxNew === 0 || seq.accept(logits, this.limits.eosIds)) this.finish(seq);
    else joined.push(seq);
  }

  /** Keeps the prompt's leading full blocks while the budget has room. */
  private cachePrompt(seq: Sequence): void {
    const keys = this.prefixKeys(seq);
    const size = this.limits.blockSize;
    const kept: string[] = [];
    for (const [i, key] of keys.entries()) {
      if (!this.cache.has(key)) {
        if (this.reservedBlocks + this.cache.size + 1 > this.limits.numBlocks && !this.cache.evictOne()) break;
        this.cache.insert(key, this.decoder.promptKv(seq, i * size, (i + 1) * size));
      }
      kept.push(key);
    }
    this.cache.touchChain(kept);
  }

  /**
   * Room for the step: a running sequence whose next token starts a block takes one more. While
   * they do not fit, unused cached blocks go, then the latest admitted sequence is preempted.
   */
  private makeRoom(): void {
    if (!this.decoder.resumable) return;
    const { numBlocks, blockSize } = this.limits;
    for (;;) {
      const growing = this.running.filter((s) => Math.ceil(s.length / blockSize) > s.blocks + s.pinned.length);
      const fits = () => this.reservedBlocks + this.cache.size + growing.length <= numBlocks;
      while (!fits() && this.cache.evictOne());
      if (fits()) {
        for (const seq of growing) seq.blocks++;
        this.reservedBlocks += growing.length;
        return;
      }
      this.preempt(this.running.at(-1)!);
    }
  }

  /** Takes a running sequence's K/V back; it waits first in line to be prefilled again. */
  private preempt(seq: Sequence): void {
    this.decoder.update(new Set([seq]), []);
    this.running = this.running.filter((s) => s !== seq);
    this.release(seq);
    seq.preempt();
    this.waiting.unshift(seq);
  }

  private async decodeStep(): Promise<void> {
    const logits = await this.decoder.step();
    const finished = new Set<Sequence>();
    for (const seq of this.running) {
      if (seq.signal.aborted) seq.finish = 'cancelled';
      else seq.accept(logits.get(seq)!, this.limits.eosIds);
      if (seq.finish) finished.add(seq);
    }
    if (finished.size) this.leave(finished);
  }

  private leave(seqs: Set<Sequence>, reason?: 'cancelled'): void {
    this.decoder.update(seqs, []);
    this.running = this.running.filter((s) => !seqs.has(s));
    for (const seq of seqs) this.finish(seq, reason);
  }

  private release(seq: Sequence): void {
    this.reservedBlocks -= seq.blocks;
    seq.blocks = 0;
    this.cache.release(seq.pinned);
    seq.pinned = [];
  }

  private finish(seq: Sequence, reason?: 'cancelled'): void {
    this.release(seq);
    const result = seq.done(reason);
    const prefixCaching = this.limits.prefixCaching && this.decoder.prefixCaching;
    this.report.finished?.({
      promptTokens: result.promptTokens,
      generatedTokens: result.tokenIds.length,
      cachedTokens: prefixCaching ? result.cachedTokens : undefined,
      finishReason: result.finishReason,
      timing: result.timing!,
      preemptions: seq.preemptions,
    });
  }

  private publish(): void {
    this.report.gauges?.publish({
      running: this.running.length + this.prefilling.length,
      waiting: this.waiting.length,
      usedBlocks: this.reservedBlocks + this.cache.size,
      totalBlocks: this.limits.numBlocks,
    });
  }
}
