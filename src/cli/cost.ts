// `servesim cost --gpu G [owned-cost flags | --cloud-price X] [--count N] [--json]`: the hourly cost of
// one GPU (depreciation, power, maintenance; or a cloud rate) with the sources of the defaults.
import type { Command } from "commander"
import { Console, Effect } from "effect"
import { GPU_PRICE_IDS } from "../econ/gpu-prices.ts"
import { costReport, type CostFlags, type CostReport } from "../scenario/cost-block.ts"
import type { InputError } from "../scenario/errors.ts"
import { runCommand } from "./run-effect.ts"

const money = (x: number) => `$${x.toFixed(4)}`
const num = (x: number) => String(Number(x.toPrecision(6)))

export const formatCostReport = (r: CostReport): string => {
  const lines: string[] = []
  const b = r.breakdown
  const head = `${r.gpu}${r.name === undefined ? "" : ` (${r.name})`}`
  if (r.inputs.kind === "cloud") {
    lines.push(`${head}: cloud rate, per GPU-hour`)
    lines.push(`  cloud         ${money(b.cloud)}`)
  } else {
    const i = r.inputs
    lines.push(`${head}: owner-operated, per GPU-hour (arXiv 2510.26136 App. A)`)
    lines.push(`  depreciation  ${money(b.depreciation)}   P/(Y·8760·u) = ${num(i.purchasePrice)}/(${num(i.years)}·8760·${num(i.utilization)})`)
    lines.push(`  power         ${money(b.power)}   kW·PUE·E = ${num(i.powerKw)}·${num(i.pue)}·${num(i.electricityPrice)}`)
    lines.push(`  maintenance   ${money(b.maintenance)}   P·m/8760 = ${num(i.purchasePrice)}·${num(i.maintenanceRate)}/8760`)
  }
  lines.push(`  total         ${money(b.total)} per GPU-hour`)
  if (r.count > 1) lines.push(`  ${`×${r.count} GPUs`.padEnd(14)}${money(r.totalPerHour)} per hour`)
  if (r.cloudReference !== undefined)
    lines.push(`  cloud reference: $${r.cloudReference.usdPerGpuHour}/GPU-h (${r.cloudReference.source})`)
  const sourceEntries = Object.entries(r.sources)
  if (sourceEntries.length > 0) {
    lines.push("defaults:")
    for (const [k, v] of sourceEntries) lines.push(`  ${k}: ${v}`)
  }
  return lines.join("\n")
}

export const costProgram = (flags: CostFlags): Effect.Effect<void, InputError> =>
  costReport(flags).pipe(
    Effect.flatMap((r) => Console.log(flags.json === true ? JSON.stringify(r, null, 2) : formatCostReport(r))),
  )

export const register = (program: Command): void => {
  program
    .command("cost")
    .description("Hourly cost of one GPU: depreciation + power + maintenance (owner-operated) or a cloud rate")
    .option("--gpu <id>", `GPU id (${GPU_PRICE_IDS.join(", ")})`)
    .option("--purchase-price <usd>", "P: purchase price per card, USD")
    .option("--years <n>", "Y: depreciation period, years")
    .option("--utilization <u>", "u: fraction of hours in paid use, (0, 1]")
    .option("--power-kw <kw>", "average board power, kW (default: TDP)")
    .option("--pue <x>", "data-centre PUE, ≥ 1")
    .option("--electricity-price <usd>", "E: USD per kWh")
    .option("--maintenance-rate <m>", "m: yearly maintenance as a fraction of P")
    .option("--cloud-price <usd>", "cloud USD per GPU-hour instead of the owned-cost model")
    .option("--count <n>", "number of GPUs for the total", "1")
    .option("--json", "print JSON")
    .action((flags: CostFlags) => runCommand(costProgram(flags)))
}
