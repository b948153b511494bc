/**
 * vLLM's metrics, by vLLM's names and label `model_name`, for generative models: what the
 * Gateway API Inference Extension's endpoint picker, KEDA rules and vLLM dashboards read.
 * Gauges come from the engines' shared-memory gauges when scraped; counters and histograms
 * from each finished generation.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineSnapshot } from '../core/engine-gauges.js';
import type { GenerationStats, TextModelInfo } from '../core/runtime.js';

/** One model's engines as a scrape sees them. */
export interface EngineView {
  model: string;
  gauges: EngineSnapshot;
  cache: NonNullable<TextModelInfo['cache']>;
}

// vLLM's buckets, with a few shorter ones in front: small models on CPU step in milliseconds.
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const REQUEST_BUCKETS = [0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

/** vLLM's finished_reason values. */
const REASON: Record<GenerationStats['finishReason'], string> = { stop: 'stop', length: 'length', cancelled: 'abort' };

export class VllmMetrics {
  private engines: () => Iterable<EngineView> = () => [];
  private readonly cacheConfig: Gauge;
  private readonly prefixQueries: Counter;
  private readonly prefixHits: Counter;
  private readonly promptTokens: Counter;
  private readonly generationTokens: Counter;
  private readonly preemptions: Counter;
  private readonly success: Counter;
  private readonly ttft: Histogram;
  private readonly itl: Histogram;
  private readonly e2e: Histogram;
  private readonly queue: Histogram;

  constructor(registry: Registry) {
    const gauge = (name: string, help: string, read: (v: EngineView) => number) => {
      const g: Gauge = new Gauge({
        name,
        help,
        labelNames: ['model_name'],
        registers: [registry],
        collect: () => {
          g.reset();
          for (const view of this.engines()) g.set({ model_name: view.model }, read(view));
        },
      });
      return g;
    };
    const counter = (name: string, help: string, labelNames = ['model_name']) =>
      new Counter({ name, help, labelNames, registers: [registry] });
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, labelNames: ['model_name'], buckets, registers: [registry] });
    gauge('vllm:num_requests_running', 'Requests being generated (prefill or decode)', (v) => v.gauges.running);
    gauge('vllm:num_requests_waiting', 'Requests waiting for admission to a generation engine', (v) => v.gauges.waiting);
    gauge('vllm:kv_cache_usage_perc', 'KV-cache usage, 0.0-1.0: blocks reserved by running requests or holding cached prefixes', (v) =>
      v.gauges.totalBlocks ? v.gauges.usedBlocks / v.gauges.totalBlocks : 0,
    );
    this.cacheConfig = new Gauge({
      name: 'vllm:cache_config_info',
      help: 'KV-cache configuration (value 1; the labels carry it)',
      labelNames: ['model_name', 'block_size', 'num_gpu_blocks', 'enable_prefix_caching'],
      registers: [registry],
      collect: () => {
        this.cacheConfig.reset();
        for (const { model, cache } of this.engines()) {
          this.cacheConfig.set(
            {
              model_name: model,
              block_size: String(cache.blockSize),
              num_gpu_blocks: String(cache.numBlocks),
              enable_prefix_caching: String(cache.prefixCaching),
            },
            1,
          );
        }
      },
    });
    this.prefixQueries = counter('vllm:prefix_cache_queries_total', 'Prompt tokens looked up in the prefix cache');
    this.prefixHits = counter('vllm:prefix_cache_hits_total', 'Prompt tokens found in the prefix cache');
    this.promptTokens = counter('vllm:prompt_tokens_total', 'Prompt tokens of finished requests');
    this.generationTokens = counter('vllm:generation_tokens_total', 'Generated tokens of finished requests');
    this.preemptions = counter(
      'vllm:num_preemptions_total',
      'Times a running request gave up its KV cache for room, to be computed again (counted when it finishes)',
    );
    this.success = counter('vllm:request_success_total', 'Finished requests, by finish reason (stop, length, abort)', [
      'model_name',
      'finished_reason',
    ]);
    this.ttft = histogram('vllm:time_to_first_token_seconds', 'Time from arrival to the first generated token', TTFT_BUCKETS);
    this.itl = histogram('vllm:inter_token_latency_seconds', 'Time between consecutive generated tokens', ITL_BUCKETS);
    this.e2e = histogram('vllm:e2e_request_latency_seconds', 'Time from arrival to the last token', REQUEST_BUCKETS);
    this.queue = histogram('vllm:request_queue_time_seconds', 'Time a request waited before its prefill started', REQUEST_BUCKETS);
  }

  watchEngines(source: () => Iterable<EngineView>): void {
    this.engines = source;
  }

  finished(model: string, stats: GenerationStats): void {
    const labels = { model_name: model };
    if (stats.cachedTokens !== undefined) {
      this.prefixQueries.inc(labels, stats.promptTokens);
      this.prefixHits.inc(labels, stats.cachedTokens);
    }
    this.promptTokens.inc(labels, stats.promptTokens);
    this.generationTokens.inc(labels, stats.generatedTokens);
    this.preemptions.inc(labels, stats.preemptions ?? 0);
    this.success.inc({ model_name: model, finished_reason: REASON[stats.finishReason] });
    const t = stats.timing;
    this.queue.observe(labels, t.queueS);
    this.e2e.observe(labels, t.e2eS);
    if (t.ttftS !== undefined) this.ttft.observe(labels, t.ttftS);
    for (const gap of t.interTokenS) this.itl.observe(labels, gap);
  }
}
