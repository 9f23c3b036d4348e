// Before a probe sends its first measured request: discover what the server serves (models,
// max_model_len, version, /metrics and its KV-cache config, whether it is a servesim twin and at what
// time scale) and calibrate prompts — two short requests fit prompt tokens against words, so each
// request's prompt text comes out at the tokens asked for.
import { Duration, Effect, Redacted } from "effect"
import { InputError } from "../scenario/errors.ts"
import { datasetLabel, datasetMeans } from "./dataset.ts"
import { getText, ProbeError, sendStreamingRequest } from "./client.ts"
import { parseVllmMetrics } from "./metrics-parser.ts"
import { makePrompt, fitPromptModel, IDENTITY_PROMPT_MODEL } from "./prompt.ts"
import type { PromptModel } from "./prompt.ts"
import type { ProgressSink } from "./progress.ts"
import type { Manifest } from "./run-dir.ts"
import { twinLagCounters } from "./lag.ts"
import type { ProbePlan } from "./runner.ts"
import { parseModels, parseVersion } from "./server-info.ts"
import type { ErrorClass, RequestRecord } from "./types.ts"

/** A request that got no response headers in time (a silent server), as opposed to a slow stream. */
export const isSilent = (o: Pick<RequestRecord, "errorClass" | "status">): boolean => o.errorClass === "timeout" && o.status === undefined

interface ServerInfo {
  readonly server: Manifest["server"]
}

export const discoverServer = Effect.fnUntraced(function*(
  plan: ProbePlan,
  apiKey: Redacted.Redacted<string> | undefined,
  progress: ProgressSink,
  connectTimeoutMs: number
) {
  const opts = { timeoutMs: connectTimeoutMs, apiKey }
  const modelsRes = yield* getText(plan.url, "/v1/models", opts).pipe(
    Effect.mapError((e) => new ProbeError({ message: `cannot reach the server: ${e.message}` }))
  )
  if (modelsRes.status === 401 || modelsRes.status === 403) {
    return yield* new ProbeError({ message: `GET ${plan.url}/v1/models: HTTP ${modelsRes.status} (API key missing or wrong; see --api-key-env)` })
  }
  if (modelsRes.status !== 200) {
    return yield* new ProbeError({ message: `GET ${plan.url}/v1/models: HTTP ${modelsRes.status}` })
  }
  const models = parseModels(modelsRes.text)
  if (typeof models === "string") return yield* new ProbeError({ message: models })
  const card = models.find((m) => m.id === plan.model)
  if (card === undefined) {
    return yield* new InputError({
      message: `--model ${plan.model}: the server serves ${models.map((m) => m.id).join(", ") || "no models"}`
    })
  }
  const maxModelLen = card.max_model_len
  if (maxModelLen !== undefined && plan.dataset !== undefined) {
    const longest = datasetMeans(plan.dataset, plan.warmup).longest
    if (longest > maxModelLen) {
      return yield* new InputError({
        message: `--dataset-name ${datasetLabel(plan.dataset.spec)}: a request of ${longest} prompt + output tokens exceeds the server's max_model_len ${maxModelLen}`
      })
    }
  } else if (maxModelLen !== undefined && plan.isl + plan.osl > maxModelLen) {
    return yield* new InputError({
      message: `--isl ${plan.isl} + --osl ${plan.osl} exceeds the server's max_model_len ${maxModelLen}`
    })
  }
  const versionRes = yield* getText(plan.url, "/version", opts).pipe(Effect.option)
  const version = versionRes._tag === "Some" && versionRes.value.status === 200 ? parseVersion(versionRes.value.text) : undefined
  const metricsRes = yield* getText(plan.url, "/metrics", opts).pipe(Effect.option)
  let metricsAvailable = false
  let cache: { numGpuBlocks?: number; blockSize?: number; cacheConfig?: Record<string, string> } = {}
  let vllmFamilies: ReadonlyArray<string> | undefined
  // A servesim twin says its time scale on /metrics: its timings are converted back to simulated time.
  const twin = metricsRes._tag === "Some" && metricsRes.value.status === 200 ? twinLagCounters(metricsRes.value.text) : undefined
  if (twin !== undefined && twin.timeScale !== 1) {
    progress.info(`the server is a servesim twin at time scale ${twin.timeScale}: measured times are multiplied by ${twin.timeScale}`)
  }
  if (metricsRes._tag === "Some" && metricsRes.value.status === 200) {
    const snap = parseVllmMetrics(metricsRes.value.text)
    if (typeof snap === "string") progress.warn(`/metrics is not readable (${snap}); continuing without server metrics`)
    else {
      metricsAvailable = true
      vllmFamilies = snap.vllmFamilies
      if (snap.vllmFamilies.length === 0) progress.warn("/metrics has no vllm:* metrics (is this vLLM, and is --disable-log-stats off?)")
      const cc = snap.cacheConfig
      if (cc !== undefined) {
        cache = {
          ...(cc.numGpuBlocks === undefined ? {} : { numGpuBlocks: cc.numGpuBlocks }),
          ...(cc.blockSize === undefined ? {} : { blockSize: cc.blockSize }),
          cacheConfig: { ...cc.labels }
        }
      }
    }
  } else progress.warn(`GET ${plan.url}/metrics failed; continuing without server metrics`)
  const info: ServerInfo = {
    server: {
      ...(version === undefined ? {} : { version }),
      models: models.map((m) => ({ ...m })),
      ...(maxModelLen === undefined ? {} : { maxModelLen }),
      ...cache,
      ...(twin === undefined ? {} : { timeScale: twin.timeScale }),
      metricsAvailable,
      ...(vllmFamilies === undefined ? {} : { vllmFamilies: [...vllmFamilies] })
    }
  }
  return info
})

const CALIBRATION_ATTEMPTS = 5
/** Failures worth another try; typed so that a misspelt class is a compile error, not a silent miss. */
export const TRANSIENT_ERROR_CLASSES: ReadonlySet<ErrorClass> = new Set<ErrorClass>(["http_5xx", "stream_error", "dropped_connection", "timeout", "bad_response"])
export const isTransient = (errorClass: ErrorClass | undefined): boolean => errorClass !== undefined && TRANSIENT_ERROR_CLASSES.has(errorClass)

/** Two short requests (isl and isl/2 words, 1 output token) fit prompt tokens ≈ overhead + perWord · words. */
export const calibratePrompt = Effect.fnUntraced(function*(
  plan: ProbePlan,
  apiKey: Redacted.Redacted<string> | undefined,
  progress: ProgressSink,
  connectTimeoutMs: number
) {
  const samples: Array<{ words: number; tokens: number }> = []
  for (const words of [plan.isl, Math.max(1, Math.floor(plan.isl / 2))]) {
    // A transient failure (TRANSIENT_ERROR_CLASSES: 5xx, error chunk, dropped connection, timeout, malformed
    // reply) is retried; a 4xx or a refusal is final.
    const send = (attempt: number) =>
      sendStreamingRequest({
        baseUrl: plan.url,
        model: plan.model,
        prompt: makePrompt(words, `${plan.seed}:calibration:${words}${attempt > 0 ? `:${attempt}` : ""}`),
        maxTokens: 1,
        chat: plan.endpoint === "chat",
        timeoutMs: plan.timeoutS * 1000,
        firstByteTimeoutMs: connectTimeoutMs,
        ...(apiKey === undefined ? {} : { apiKey })
      })
    let outcome = yield* send(0)
    // A silent server (no headers within the connect timeout) is not retried: that would multiply the wait.
    for (let attempt = 1; attempt < CALIBRATION_ATTEMPTS && !outcome.ok && isTransient(outcome.errorClass) && !isSilent(outcome); attempt++) {
      yield* Effect.sleep(Duration.millis(200 * attempt))
      outcome = yield* send(attempt)
    }
    if (!outcome.ok) {
      return yield* new ProbeError({ message: `calibration request failed: ${outcome.errorClass}: ${outcome.error ?? ""}` })
    }
    if (outcome.usage === undefined) {
      progress.warn("the server sent no usage; prompt lengths cannot be checked (tokens counted as words)")
      return { model: IDENTITY_PROMPT_MODEL, samples }
    }
    samples.push({ words, tokens: outcome.usage.prompt_tokens })
  }
  const model: PromptModel = samples.length === 2 ? fitPromptModel(samples[0]!, samples[1]!) : IDENTITY_PROMPT_MODEL
  return { model, samples }
})
