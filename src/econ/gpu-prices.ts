// Purchase prices, board power and a reference cloud rate per GPU, keyed by the ids of src/hw/gpus.ts.
// Street prices move fast and vary by market; every figure names its source (details and more data
// points in ../shared/data/facts/gpus.json and ../shared/notes/economics.md §3). Pure data.
import { lookupGpu } from "../hw/gpus.ts"

export interface SourcedValue {
  readonly value: number
  readonly source: string
}

export interface GpuPriceFacts {
  readonly id: string
  readonly name: string
  /** USD per card. */
  readonly purchasePrice: SourcedValue
  /** Board power in watts (TDP); the cost model's kW default. Equal to lookupGpu(id).tdpWatts (tested). */
  readonly boardPowerWatts: SourcedValue
  /** One on-demand USD per GPU-hour for comparison; absent where no stored source has one. */
  readonly cloudReference?: SourcedValue
}

const BOKE_2023 =
  "m.boke.042.cn/zixun/2023/0629/17096.html (Jun 2023): A800 $12,000 (≈¥83k), A100 $15,000, H100 $36,500"
const AIINFRAMAP_2026 =
  "aiinframap.com/tools/chips/h100-vs-h200-vs-b200-tco (mid-2026): street H100 ≈$30k, H200 ≈$35k, B200 ≈$40k"
const COREWEAVE_2026 =
  "kaelresearch.com/blog/gpu-economics-real-inference-costs (Feb 2026): CoreWeave 8x A100 $21.60/h, 8x H100 $49.24/h, 8x H200 $50.44/h, 8x B200 $68.80/h, 8x L40S $18.00/h"
const A100_DATASHEET_TDP = "NVIDIA A100 datasheet r4 via glennklockwood.com (400 W SXM4); A800 = A100 with NVLink cut (aiwiki.ai/wiki/nvidia_a800)"

export const GPU_PRICES: Readonly<Record<string, GpuPriceFacts>> = {
  "a800-sxm": {
    id: "a800-sxm",
    name: "NVIDIA A800 80GB SXM4",
    purchasePrice: { value: 12000, source: BOKE_2023 },
    boardPowerWatts: { value: 400, source: A100_DATASHEET_TDP },
    cloudReference: {
      value: 2.82,
      source: "arXiv 2510.26136 via ownyourai.com: cloud A800 80G $2.82-5.64/h vs self-hosted ≈$0.79/h (low end taken)",
    },
  },
  "a800-pcie": {
    id: "a800-pcie",
    name: "NVIDIA A800 80GB PCIe",
    purchasePrice: { value: 12000, source: `${BOKE_2023} (form factor unspecified)` },
    boardPowerWatts: { value: 300, source: "NVIDIA A800/A100 80GB PCIe datasheet: 300 W" },
    cloudReference: {
      value: 2.82,
      source: "arXiv 2510.26136 via ownyourai.com: cloud A800 80G $2.82-5.64/h (low end taken)",
    },
  },
  "a100-sxm": {
    id: "a100-sxm",
    name: "NVIDIA A100 80GB SXM4",
    purchasePrice: { value: 15000, source: `${BOKE_2023}; aitooldiscovery.com: new A100 80GB $8k-15k (2025-26)` },
    boardPowerWatts: { value: 400, source: A100_DATASHEET_TDP },
    cloudReference: { value: 2.7, source: COREWEAVE_2026 },
  },
  "a100-pcie": {
    id: "a100-pcie",
    name: "NVIDIA A100 80GB PCIe",
    purchasePrice: { value: 15000, source: `${BOKE_2023} (form factor unspecified); aitooldiscovery.com: new A100 80GB $8k-15k` },
    boardPowerWatts: { value: 300, source: "NVIDIA A100 80GB PCIe datasheet: 300 W" },
    cloudReference: {
      value: 3.673,
      source: "datareceipts/data-receipts 109-gpu-pricing (retrieved 2026-11-09): Azure NC24ads_A100_v4, 1x A100 PCIe 80GB $3.673/h",
    },
  },
  "h100-sxm": {
    id: "h100-sxm",
    name: "NVIDIA H100 SXM5 80GB",
    purchasePrice: { value: 30000, source: `${AIINFRAMAP_2026}; huggingface.co/hardware/h100 MSRP $30k` },
    boardPowerWatts: { value: 700, source: "glennklockwood.com H100 page: 700 W SXM5" },
    cloudReference: { value: 6.155, source: COREWEAVE_2026 },
  },
  "h100-pcie": {
    id: "h100-pcie",
    name: "NVIDIA H100 PCIe 80GB",
    purchasePrice: {
      value: 25000,
      source: "stratrix.com/pricing-lens (H100 sold at $25,000-40,000 depending on form factor); PCIe taken at the low end",
    },
    boardPowerWatts: { value: 350, source: "NVIDIA H100 PCIe product brief PB-11133-001_v02: max TDP 350 W" },
    cloudReference: {
      value: 2.86,
      source: "techbytes.app serverless GPU pricing (2026-05-07): Lambda H100 PCIe $2.86/h",
    },
  },
  "h800-sxm": {
    id: "h800-sxm",
    name: "NVIDIA H800 SXM5 80GB",
    purchasePrice: {
      value: 54000,
      source:
        "caihuicloud.com/news/info/10879.html (Caixin, Oct 2023): single H800 ¥350k-400k via intermediaries; midpoint ¥375k at ¥6.92/$ (the rate implied by the Jun-2023 boke.042.cn A800 quote)",
    },
    boardPowerWatts: { value: 700, source: "H800 SXM = H100 SXM with NVLink 400 GB/s; 700 W (gpus.json h800-sxm)" },
  },
  "h800-pcie": {
    id: "h800-pcie",
    name: "NVIDIA H800 PCIe 80GB",
    purchasePrice: {
      value: 54000,
      source:
        "caihuicloud.com/news/info/10879.html (Caixin, Oct 2023): single H800 ¥350k-400k (form factor unspecified); midpoint at ¥6.92/$",
    },
    boardPowerWatts: { value: 350, source: "H800 PCIe = H100 PCIe power envelope, 350 W (gpus.json h800-pcie)" },
  },
  "h200-sxm": {
    id: "h200-sxm",
    name: "NVIDIA H200 SXM 141GB",
    purchasePrice: { value: 35000, source: `${AIINFRAMAP_2026}; SemiAnalysis capex $34,698/GPU` },
    boardPowerWatts: { value: 700, source: "huggingface.co/hardware/h200: 700 W" },
    cloudReference: { value: 6.305, source: COREWEAVE_2026 },
  },
  "b200-sxm": {
    id: "b200-sxm",
    name: "NVIDIA B200 (HGX)",
    purchasePrice: { value: 40000, source: `${AIINFRAMAP_2026}; egoistai.com: $30k-40k` },
    boardPowerWatts: { value: 1000, source: "glennklockwood.com B200 (HGX @1000 W); Vultr HGX B200 docs" },
    cloudReference: { value: 8.6, source: COREWEAVE_2026 },
  },
  l40s: {
    id: "l40s",
    name: "NVIDIA L40S 48GB",
    purchasePrice: { value: 7500, source: "chipversus.com/hardware/gpu/l40s: MSRP $7,500 (rentgpu.org uses $9,000)" },
    boardPowerWatts: { value: 350, source: "NVIDIA L40S datasheet via mullet.se: 350 W" },
    cloudReference: { value: 2.25, source: COREWEAVE_2026 },
  },
  "rtx-4090": {
    id: "rtx-4090",
    name: "NVIDIA GeForce RTX 4090 24GB",
    purchasePrice: { value: 1599, source: "tomshardware.com RTX 4090 review (2022-10-11): Founders Edition $1,599" },
    boardPowerWatts: { value: 450, source: "tutorials-forum.info RTX 40 overview and wccftech (Jul 2022): 450 W reference TGP" },
  },
  "rtx-pro-6000": {
    id: "rtx-pro-6000",
    name: "NVIDIA RTX PRO 6000 Blackwell 96GB",
    purchasePrice: { value: 8565, source: "newgearhub.com GTC 2026 review (Apr 2026): MSRP $8,565, retail $8,000-9,200" },
    boardPowerWatts: { value: 600, source: "gpu.name / VideoCardz (Mar 2025): RTX Pro 6000 Blackwell 600 W" },
  },
}

export const GPU_PRICE_IDS: ReadonlyArray<string> = Object.keys(GPU_PRICES)

/** Prices by GPU id or any alias src/hw/gpus.ts knows ("a800", "A800-SXM4-80GB", …). */
export const lookupGpuPrice = (id: string): GpuPriceFacts | undefined => GPU_PRICES[lookupGpu(id)?.id ?? id]
