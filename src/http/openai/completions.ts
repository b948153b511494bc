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
import { GENERATIVE_TASKS, type GenerateChunk, type GenerateRequest, type GenerateResult } from '../../core/runtime.js';
import { parseJsonBody } from '../v2-request.js';
import { openAIError } from './openai-errors.js';
import { type CompletionLogprobs, chatLogprobs, completionLogprobs, textLength } from './openai-logprobs.js';
import { type ChatRequest, type CompletionRequest, type SamplingFields, parseChat, parseCompletion } from './openai-requests.js';
import { EventStream, disconnectSignal } from './sse.js';
import type { ServedModels } from './served-models.js';
import { samplingDefaultsFor, textModel } from './text-models.js';

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** OpenAI's shape for prompt tokens served from the prefix cache. */
  prompt_tokens_details: { cached_tokens: number };
}

/** Usage of choices made `n` per prompt: each prompt counts once, as vLLM counts it. */
function usage(results: GenerateResult[], n: number): Usage {
  const prompts = results.filter((_, i) => i % n === 0);
  const prompt = prompts.reduce((sum, r) => sum + r.promptTokens, 0);
  const completion = results.reduce((sum, r) => sum + r.tokenIds.length, 0);
  const cached = prompts.reduce((sum, r) => sum + (r.cachedTokens ?? 0), 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

/**
 * One generation per choice: each prompt `n` times, choice i * n + j as vLLM numbers them. With
 * a seed, choice j of a prompt draws with seed + j, so its choices differ and each is reproducible.
 */
function choiceRequests(
  prompts: readonly GenerateRequest['prompt'][],
  fields: SamplingFields,
  maxTokens: number | undefined,
): GenerateRequest[] {
  const { settings, n } = fields;
  return prompts.flatMap((prompt) =>
    Array.from({ length: n }, (_, j) => ({
      ...settings,
      prompt,
      maxTokens,
      seed: settings.seed === undefined ? undefined : settings.seed + j,
    })),
  );
}

/** What --max_prompts_per_request counts for a request with `n`. */
const generationsOf = (n: number) => (n > 1 ? 'generations (prompts x n)' : 'prompts');

/** One generation, logged when the client went away before it finished. `onChunk` gets the chunks with text or logprobs. */
async function generate(
  target: { dataPlane: DataPlane; model: string },
  request: GenerateRequest,
  onChunk: (chunk: GenerateChunk) => void,
  signal: CancelSignal,
  logger: Logger,
): Promise<GenerateResult> {
  const result = await target.dataPlane.generate(
    target.model,
    request,
    (chunk) => (chunk.text || chunk.logprobs?.length) && onChunk(chunk),
    signal,
  );
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
 * One generation per choice, all at once, as vLLM runs a prompt list: the engine batches their
 * steps. A choice that fails fails the request, and the others stop rather than run for nobody.
 */
function generateAll<P>(
  prompts: readonly P[],
  disconnected: CancelSignal,
  run: (prompt: P, index: number, signal: CancelSignal) => Promise<GenerateResult>,
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

/** The prompt's text when the request echoes it: as given, or a token-id prompt's, decoded by the model. */
function echoed(req: CompletionRequest, index: number, result?: GenerateResult): string {
  const prompt = req.prompts[Math.floor(index / req.n)];
  if (!req.echo) return '';
  return typeof prompt === 'string' ? prompt : (result?.promptText ?? '');
}

/**
 * Completions' requests: with `echo`, a token-id prompt's text comes back decoded, and with
 * `logprobs` too, the prompt's tokens are scored as vLLM scores them (`prompt_logprobs`).
 */
function completionRequests(req: CompletionRequest): GenerateRequest[] {
  return choiceRequests(req.prompts, req, req.maxTokens).map((request) => ({
    ...request,
    echo: req.echo && typeof request.prompt !== 'string',
    promptLogprobs: req.echo ? req.settings.logprobs : undefined,
  }));
}

/** A choice's logprobs: with `echo`, its prompt's tokens first. */
function choiceLogprobs(req: CompletionRequest, result: GenerateResult): CompletionLogprobs {
  return completionLogprobs([...(req.echo ? (result.promptLogprobs ?? []) : []), ...(result.logprobs ?? [])], 0);
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
  const requests = completionRequests(req);
  dataPlane.checkPromptCount(requests.length, generationsOf(req.n));
  const version = { dataPlane, model };
  const id = `cmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: 'text_completion', created, model: req.model };
  if (!req.stream) {
    const results = await generateAll(requests, disconnectSignal(reply.raw), (request, _index, signal) =>
      generate(version, request, () => {}, signal, logger),
    );
    const choices = results.map((r, index) => ({
      index,
      text: echoed(req, index, r) + r.text,
      logprobs: req.settings.logprobs === undefined ? null : choiceLogprobs(req, r),
      finish_reason: finish(r.finishReason),
    }));
    return { ...base, choices, usage: usage(results, req.n) };
  }
  await streamResponse(reply, async (events, disconnected) => {
    // Where each choice's next token text starts, for the logprobs' text_offset.
    const offsets = requests.map(() => 0);
    const chunk = (index: number, text: string, finishReason: string | null, generated?: GenerateChunk) => {
      const entries = generated?.logprobs ?? [];
      const logprobs = req.settings.logprobs === undefined || !generated ? null : completionLogprobs(entries, offsets[index]!);
      offsets[index]! += textLength(entries);
      events.send({ ...base, choices: [{ index, text, logprobs, finish_reason: finishReason }] });
    };
    if (req.echo) requests.forEach((_, index) => chunk(index, echoed(req, index), null));
    // The choices' chunks interleave, each carrying its index, as vLLM streams a prompt list.
    const results = await generateAll(requests, disconnected, async (request, index, signal) => {
      const result = await generate(version, request, (generated) => chunk(index, generated.text, null, generated), signal, logger);
      if (!signal.aborted) chunk(index, '', finish(result.finishReason));
      return result;
    });
    if (req.includeUsage && !disconnected.aborted) events.send({ ...base, choices: [], usage: usage(results, req.n) });
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
  const requests = choiceRequests([req.messages], req, req.maxTokens);
  dataPlane.checkPromptCount(requests.length, generationsOf(req.n));
  const version = { dataPlane, model };
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  if (!req.stream) {
    const base = { id, object: 'chat.completion', created, model: req.model };
    const results = await generateAll(requests, disconnectSignal(reply.raw), (request, _index, signal) =>
      generate(version, request, () => {}, signal, logger),
    );
    const choices = results.map((result, index) => ({
      index,
      message: { role: 'assistant', content: result.text },
      logprobs: req.settings.logprobs === undefined ? null : chatLogprobs(result.logprobs ?? []),
      finish_reason: finish(result.finishReason),
    }));
    return { ...base, choices, usage: usage(results, req.n) };
  }
  const base = { id, object: 'chat.completion.chunk', created, model: req.model };
  await streamResponse(reply, async (events, disconnected) => {
    const chunk = (index: number, delta: Record<string, string>, finishReason: string | null, generated?: GenerateChunk) => {
      const logprobs = req.settings.logprobs === undefined || !generated ? null : chatLogprobs(generated.logprobs ?? []);
      events.send({ ...base, choices: [{ index, delta, logprobs, finish_reason: finishReason }] });
    };
    // Each choice's first chunk carries the assistant role; the choices' chunks interleave.
    const started = requests.map(() => false);
    const say = (index: number, text: string, generated?: GenerateChunk) => {
      chunk(index, started[index] ? { content: text } : { role: 'assistant', content: text }, null, generated);
      started[index] = true;
    };
    const results = await generateAll(requests, disconnected, async (request, index, signal) => {
      const result = await generate(version, request, (generated) => say(index, generated.text, generated), signal, logger);
      if (signal.aborted) return result;
      if (!started[index]) say(index, '');
      chunk(index, {}, finish(result.finishReason));
      return result;
    });
    if (req.includeUsage && !disconnected.aborted) events.send({ ...base, choices: [], usage: usage(results, req.n) });
  });
  return reply;
}

export function registerCompletionRoutes(scope: FastifyInstance, dataPlane: DataPlane, logger: Logger, models: ServedModels): void {
  const body = (raw: unknown) => parseJsonBody((raw as Uint8Array | undefined) ?? new Uint8Array(0));
  const defaults = (raw: unknown) => {
    const name = (raw as { model?: unknown } | null)?.model;
    return typeof name === 'string' ? samplingDefaultsFor(dataPlane, models.canonical(name)) : {};
  };
  scope.post('/v1/completions', (request, reply) => {
    const raw = body(request.body);
    const req = parseCompletion(raw, defaults(raw));
    traceInference(request, models.canonical(req.model), 'openai');
    return completions(dataPlane, logger, req, reply, models.canonical(req.model));
  });
  scope.post('/v1/chat/completions', (request, reply) => {
    const raw = body(request.body);
    const req = parseChat(raw, defaults(raw));
    traceInference(request, models.canonical(req.model), 'openai');
    return chatCompletions(dataPlane, logger, req, reply, models.canonical(req.model));
  });
}
