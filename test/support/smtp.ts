/** A real SMTP server (smtp-server) on 127.0.0.1 for tests, and what it received, parsed by mailparser. */
import type { ParsedMail } from "mailparser"
import { simpleParser } from "mailparser"
import * as Net from "node:net"
import { SMTPServer } from "smtp-server"

export interface Received {
  readonly mail: ParsedMail
  readonly raw: string
  readonly rcptTo: ReadonlyArray<string>
  readonly user: string | undefined
}

export interface TestSmtp {
  readonly port: number
  readonly received: Array<Received>
  /** MAIL FROM attempts seen, delivered or not */
  attempts: number
  readonly close: () => Promise<void>
}

export interface SmtpOptions {
  /** require AUTH PLAIN/LOGIN with these credentials */
  readonly auth?: { readonly user: string; readonly pass: string }
  /** the text of a failed authentication's 535 reply (default: "Invalid username or password") */
  readonly authFailure?: (user: string, pass: string) => string
  /** reply 550 to every message */
  readonly reject?: boolean
  /** listen on this port (default: any free one) */
  readonly port?: number
}

export const startSmtp = async (options: SmtpOptions = {}): Promise<TestSmtp> => {
  const received: Array<Received> = []
  const state = { attempts: 0 }
  const server = new SMTPServer({
    secure: false,
    disabledCommands: options.auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: true,
    authOptional: options.auth === undefined,
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        return callback(null, { user: auth.username })
      }
      return callback(new Error(options.authFailure?.(auth.username ?? "", auth.password ?? "") ?? "Invalid username or password"))
    },
    onMailFrom(_address, _session, callback) {
      state.attempts++
      if (options.reject) {
        const error = Object.assign(new Error("mailbox unavailable"), { responseCode: 550 })
        return callback(error)
      }
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Array<Buffer> = []
      stream.on("data", (c: Buffer) => chunks.push(c))
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8")
        void simpleParser(raw).then((mail) => {
          received.push({
            mail,
            raw,
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            user: typeof session.user === "string" ? session.user : undefined
          })
          callback()
        })
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", () => resolve()))
  const address = server.server.address() as Net.AddressInfo
  return {
    port: address.port,
    received,
    get attempts() {
      return state.attempts
    },
    set attempts(n: number) {
      state.attempts = n
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** A server that accepts connections and never says anything. */
export const startSilentServer = async (): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> => {
  const sockets = new Set<Net.Socket>()
  let count = 0
  const server = Net.createServer((socket) => {
    count++
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  return {
    port: (server.address() as Net.AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

/** A port nothing listens on (yet). */
export const freePort = async (): Promise<number> => {
  const server = Net.createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const port = (server.address() as Net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
