// The durable-copy floor: the least work a processor that stores a copy of
// its own must do per file. List data/, and 16 at a time rename each file into
// processing/, read it, JSON.parse it, create validated/<name> exclusively
// (O_EXCL, O_NOFOLLOW), write the bytes, fdatasync, close, unlink the claimed
// name. Nothing else. The floor to compare a copying store with (issue 25);
// the same work per file as the copy floor the figures were measured
// with. Usage: node bench/copyfloor.mjs ROOT
import { constants as C } from "node:fs"
import * as FS from "node:fs/promises"
import * as Path from "node:path"

const root = process.argv[2]
const data = Path.join(root, "data")
const processing = Path.join(root, "processing")
const validated = Path.join(root, "validated")
await FS.mkdir(processing, { recursive: true })
await FS.mkdir(validated, { recursive: true })
const names = (await FS.readdir(data)).filter((n) => n.endsWith(".json"))
let next = 0
const worker = async () => {
  while (next < names.length) {
    const name = names[next++]
    const claimed = Path.join(processing, name)
    await FS.rename(Path.join(data, name), claimed)
    const bytes = await FS.readFile(claimed)
    JSON.parse(bytes.toString("utf8"))
    const handle = await FS.open(Path.join(validated, name), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o640)
    await handle.write(bytes, 0, bytes.length, 0)
    await handle.datasync()
    await handle.close()
    await FS.unlink(claimed)
  }
}
await Promise.all(Array.from({ length: 16 }, worker))
