/**
 * A small XML well-formedness check (for the SVG the benchmark writes): one
 * root element, every tag closed in order, names and attributes well-formed,
 * attribute values quoted, no duplicate attribute, `&` only in entity
 * references, no `<` in text or values. Enough to catch what string-built XML
 * gets wrong; no DTDs, CDATA or processing instructions beyond the declaration.
 * Returns the problems found (none: well-formed).
 */
const NAME = "[A-Za-z_:][-A-Za-z0-9_:.]*"
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/y
const ATTRIBUTE = new RegExp(`\\s+(${NAME})\\s*=\\s*("[^"]*"|'[^']*')`, "y")
const START = new RegExp(`^<(${NAME})`)

const badAmpersands = (text: string): number => {
  let bad = 0
  for (let i = text.indexOf("&"); i >= 0; i = text.indexOf("&", i + 1)) {
    ENTITY.lastIndex = i
    if (!ENTITY.test(text)) bad++
  }
  return bad
}

export const xmlProblems = (xml: string): Array<string> => {
  const problems: Array<string> = []
  const stack: Array<string> = []
  let roots = 0
  let i = 0
  const declaration = /^<\?xml\s[^?]*\?>/.exec(xml)
  if (declaration) i = declaration[0].length
  const text = (chunk: string, at: number) => {
    if (chunk.includes("]]>")) problems.push(`"]]>" in text at ${at}`)
    if (badAmpersands(chunk) > 0) problems.push(`a bare "&" in text at ${at}`)
    if (stack.length === 0 && chunk.trim() !== "") problems.push(`text outside the root element at ${at}`)
  }
  while (i < xml.length) {
    const open = xml.indexOf("<", i)
    if (open < 0) {
      text(xml.slice(i), i)
      break
    }
    text(xml.slice(i, open), i)
    if (xml.startsWith("<!--", open)) {
      const end = xml.indexOf("-->", open + 4)
      if (end < 0) return [...problems, `an unterminated comment at ${open}`]
      i = end + 3
      continue
    }
    if (xml.startsWith("</", open)) {
      const m = new RegExp(`^</(${NAME})\\s*>`).exec(xml.slice(open))
      if (!m) return [...problems, `a malformed end tag at ${open}`]
      const expected = stack.pop()
      if (expected !== m[1]) return [...problems, `</${m[1]}> at ${open} closes ${expected === undefined ? "nothing" : `<${expected}>`}`]
      i = open + m[0].length
      continue
    }
    const m = START.exec(xml.slice(open))
    if (!m || m[1] === undefined) return [...problems, `a malformed tag at ${open}`]
    const name = m[1]
    let j = open + m[0].length
    const seen = new Set<string>()
    for (;;) {
      ATTRIBUTE.lastIndex = j
      const a = ATTRIBUTE.exec(xml)
      if (!a || a[1] === undefined || a[2] === undefined) break
      if (seen.has(a[1])) problems.push(`attribute ${a[1]} twice on <${name}> at ${open}`)
      seen.add(a[1])
      if (a[2].includes("<")) problems.push(`"<" in the value of ${a[1]} at ${open}`)
      if (badAmpersands(a[2]) > 0) problems.push(`a bare "&" in the value of ${a[1]} at ${open}`)
      j = ATTRIBUTE.lastIndex
    }
    const close = /^\s*(\/?)>/.exec(xml.slice(j))
    if (!close) return [...problems, `<${name}> at ${open} has a malformed attribute or is not closed`]
    if (stack.length === 0) roots++
    if (close[1] !== "/") stack.push(name)
    i = j + close[0].length
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.map((n) => `<${n}>`).join(" ")}`)
  if (roots !== 1) problems.push(`${roots} root elements (one expected)`)
  return problems
}
