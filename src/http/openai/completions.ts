/**
 * POST /v1/completions and /v1/chat/completions: generation in a worker, answered whole or
 * streamed as server-sent events. A client that disconnects stops its generation.
 */
import { type CancelSignal, CancelSource } from '../../core/cancel.js';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { traceInference } from '../observability.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../../log.js';
import type { DataPlane } from '../../dataplane/data-plane.js';
import { GENERATIVE_TASKS, type GenerateRequest, type GenerateResult } from '../../core/runtime.js';
import { parseJsonBody } from '../v2-request.js';
import { openAIError } from './openai-errors.js';
import { type ChatRequest, type CompletionRequest, type SamplingFields, parseChat, parseCompletion } from './openai-requests.js';
import { EventStream, disconnectSignal } from './sse.js';
import type { ServedModels } from './served-models.js';
import { textModel } from './text-models.js';

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** OpenAI's shape for prompt tokens served from the prefix cache. */
  prompt_tokens_details: { cached_tokens: number };
}

function usage(results: GenerateResult[]): Usage {
  const prompt = results.reduce((n, r) => n + r.promptTokens, 0);
  const completion = results.reduce((n, r) => n + r.tokenIds.length, 0);
  const cached = results.reduce((n, r) => n + (r.cachedTokens ?? 0), 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

function generateRequest(prompt: GenerateRequest['prompt'], fields: SamplingFields, maxTokens: number | undefined): GenerateRequest {
  const { temperature, topP, seed, stop, topK, minP, presencePenalty, frequencyPenalty, repetitionPenalty } = fields;
  const { minTokens, ignoreEos, stopTokenIds } = fields;
  return {
    prompt,
    maxTokens,
    temperature,
    topP,
    seed,
    stop,
    topK,
    minP,
    presencePenalty,
    frequencyPenalty,
    repetitionPenalty,
    minTokens,
    ignoreEos,
    stopTokenIds,
  };
}

/** One generation, logged when the client went away before it finished. */
async function generate(
  target: { dataPlane: DataPlane; model: string },
  request: GenerateRequest,
  onText: (text: string) => void,
  signal: CancelSignal,
  logger: Logger,
): Promise<GenerateResult> {
  const result = await target.dataPlane.generate(target.model, request, (chunk) => chunk.text && onText(chunk.text), signal);
  if (result.finishReason === 'cancelled') {
    logger.info(
      { model: target.model, generatedTokens: result.tokenIds.length, maxTokens: request.maxTokens ?? null },
      'generation cancelled: client disconnected',
    );
  }
  return result;
}

/** Streams `produce`'s events; errors before the first event answer as JSON, after it as an event. */
async function streamResponse(reply: FastifyReply, produce: (events: EventStream, signal: CancelSignal) => Promise<void>): Promise<void> {
  reply.hijack();
  const res: ServerResponse = reply.raw;
  const events = new EventStream(res);
  const signal = disconnectSignal(res);
  try {
    await produce(events, signal);
    if (!signal.aborted) events.done();
  } catch (error) {
    const { status, body } = openAIError(error);
    if (status >= 500 && status !== 503) reply.log.error({ err: error }, 'streamed request failed');
    if (signal.aborted || res.destroyed) return;
    if (events.isStarted) {
      events.send(body);
      events.done();
    } else {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
  }
}

/**
 * One generation per prompt, all at once, as vLLM runs a prompt list: the engine batches their
 * steps. A prompt that fails fails the request, and the others stop rather than run for nobody.
 */
function generateAll(
  prompts: readonly string[],
  disconnected: CancelSignal,
  run: (prompt: string, index: number, signal: CancelSignal) => Promise<GenerateResult>,
): Promise<GenerateResult[]> {
  const signal = new CancelSource();
  disconnected.onAbort(() => signal.abort());
  return Promise.all(
    prompts.map((prompt, index) =>
      run(prompt, index, signal).catch((error: unknown) => {
        signal.abort();
        throw error;
      }),
    ),
  );
}

function finish(reason: GenerateResult['finishReason']): string {
  return reason === 'cancelled' ? 'abort' : reason;
}

async function completions(
  dataPlane: DataPlane,
  logger: Logger,
  req: CompletionRequest,
  reply: FastifyReply,
  model: string,
): Promise<unknown> {
  textModel(dataPlane, model, GENERATIVE_TASKS, 'completions');
  dataPlane.checkPromptCount(req.prompts.length);
  const version = { dataPlane, model };
  const id = `cmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: 'text_completion', created, model: req.model };
  if (!req.stream) {
    const results = await generateAll(req.prompts, disconnectSignal(reply.raw), (prompt, _index, signal) =>
      generate(version, generateRequest(prompt, req, req.maxTokens), () => {}, signal, logger),
    );
    const choices = results.map((r, index) => ({
      index,
      text: req.echo ? req.prompts[index] + r.text : r.text,
      logprobs: null,
      finish_reason: finish(r.finishReason),
    }));
    return { ...base, choices, usage: usage(results) };
  }
  await streamResponse(reply, async (events, disconnected) => {
    const chunk = (index: number, text: string, finishReason: string | null) =>
      events.send({ ...base, choices: [{ index, text, logprobs: null, finish_reason: finishReason }] });
    if (req.echo) req.prompts.forEach((prompt, index) => chunk(index, prompt, null));
    // The choices' chunks interleave, each carrying its index, as vLLM streams a prompt list.
    const results = await generateAll(req.prompts, disconnected, async (prompt, index, signal) => {
      const result = await generate(
        version,
        generateRequest(prompt, req, req.maxTokens),
        (text) => chunk(index, text, null),
        signal,
        logger,
      );
      if (!signal.aborted) chunk(index, '', finish(result.finishReason));
      return result;
    });
    if (req.includeUsage && !disconnected.aborted) events.send({ ...base, choices: [], usage: usage(results) });
  });
  return reply;
}

async function chatCompletions(
  dataPlane: DataPlane,
  logger: Logger,
  req: ChatRequest,
  reply: FastifyReply,
  model: string,
): Promise<unknown> {
  textModel(dataPlane, model, GENERATIVE_TASKS, 'chat completions');
  const version = { dataPlane, model };
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const request = generateRequest(req.messages, req, req.maxTokens);
  if (!req.stream) {
    const base = { id, object: 'chat.completion', created, model: req.model };
    const result = await generate(version, request, () => {}, disconnectSignal(reply.raw), logger);
    const message = { role: 'assistant', content: result.text };
    return {
      ...base,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish(result.finishReason) }],
      usage: usage([result]),
    };
  }
  const base = { id, object: 'chat.completion.chunk', created, model: req.model };
  await streamResponse(reply, async (events, signal) => {
    const chunk = (delta: Record<string, string>, finishReason: string | null) =>
      events.send({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    let first = true;
    const result = await generate(
      version,
      request,
      (text) => {
        chunk(first ? { role: 'assistant', content: text } : { content: text }, null);
        first = false;
      },
      signal,
      logger,
    );
    if (signal.aborted) return;
    if (first) chunk({ role: 'assistant', content: '' }, null);
    chunk({}, finish(result.finishReason));
    if (req.includeUsage) events.send({ ...base, choices: [], usage: usage([result]) });
  });
  return reply;
}

export function registerCompletionRoutes(scope: FastifyInstance, dataPlane: DataPlane, logger: Logger, models: ServedModels): void {
  const body = (raw: unknown) => parseJsonBody((raw as Uint8Array | undefined) ?? new Uint8Array(0));
  scope.post('/v1/completions', (request, reply) => {
    const req = parseCompletion(body(request.body));
    traceInference(request, models.canonical(req.model), 'openai');
    return completions(dataPlane, logger, req, reply, models.canonical(req.model));
  });
  scope.post('/v1/chat/completions', (request, reply) => {
    const req = parseChat(body(request.body));
    traceInference(request, models.canonical(req.model), 'openai');
    return chatCompletions(dataPlane, logger, req, reply, models.canonical(req.model));
  });
}
