// vitest 5 calls Map.groupBy / Object.groupBy / Promise.withResolvers (Node ≥ 21) when it reports
// failures; these machines run Node 20. Loaded with --import before vitest starts.
if (typeof Map.groupBy !== "function") {
  Map.groupBy = (items, key) => {
    const out = new Map()
    let i = 0
    for (const item of items) {
      const k = key(item, i++)
      const group = out.get(k)
      if (group === undefined) out.set(k, [item])
      else group.push(item)
    }
    return out
  }
}
if (typeof Object.groupBy !== "function") {
  Object.groupBy = (items, key) => {
    const out = Object.create(null)
    let i = 0
    for (const item of items) {
      const k = key(item, i++)
      ;(out[k] ??= []).push(item)
    }
    return out
  }
}
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = () => {
    let resolve
    let reject
    const promise = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}
