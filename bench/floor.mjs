// The least work any hot-folder processor must do: list data/, and 16 at a
// time rename each file into processing/, read it, JSON.parse it, rename it
// into validated/. Nothing else. Usage: node bench/floor.mjs ROOT
import * as FS from "node:fs/promises"
import * as Path from "node:path"

const root = process.argv[2]
const data = Path.join(root, "data")
const processing = Path.join(root, "processing")
const validated = Path.join(root, "validated")
await FS.mkdir(processing, { recursive: true })
await FS.mkdir(validated, { recursive: true })
const names = await FS.readdir(data)
let next = 0
const worker = async () => {
  while (next < names.length) {
    const name = names[next++]
    const claimed = Path.join(processing, name)
    await FS.rename(Path.join(data, name), claimed)
    JSON.parse(await FS.readFile(claimed, "utf8"))
    await FS.rename(claimed, Path.join(validated, name))
  }
}
await Promise.all(Array.from({ length: 16 }, worker))
