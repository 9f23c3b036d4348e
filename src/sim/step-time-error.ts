// The one error the kernel throws for its inputs rather than for a bug of its own: a step time that is
// not a finite number of seconds (a profile or model whose numbers overflow). Its own module so the
// CLI's runner can recognise it without loading the engine.
/** The step-time model gave a step no finite duration: its inputs (coefficients, model, GPU) are out of range. */
export class StepTimeError extends Error {
  override readonly name = "StepTimeError"
  constructor(model: string, numTokens: number, numReqs: number, seconds: number) {
    super(`step time ${seconds} s for a batch of ${numTokens} tokens in ${numReqs} requests from ${model}: not a finite duration (check the profile's coefficients, the model config and the GPU file)`)
  }
}
