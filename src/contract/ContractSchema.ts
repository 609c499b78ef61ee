/**
 * The customer record of contract §4 three ways, one module each under
 * `schema/`: an `effect/Schema` for the messages (EffectSchema.ts), the
 * hand-written rules of the hot path (FastRules.ts) and the JSON Schema
 * published to producers (JsonSchema.ts), over the predicates they share
 * (Predicates.ts). test/contractEncodings.test.ts holds the three together
 * field by field; this module is their public face.
 *
 * @module
 */
export {
  CONTRACT_VERSION,
  isBirthDate,
  isCardNumberShape,
  isDateTime,
  isEmailAddress,
  isExpiry,
  isPersonName,
  isPhoneNumber
} from "./schema/Predicates.js"
export { Address, CardNumber, makeCustomer, Payment } from "./schema/EffectSchema.js"
export type { Customer } from "./schema/EffectSchema.js"
export { makeCustomerCheck, makeCustomerRules } from "./schema/FastRules.js"
export type { FieldRule, ObjectRule, Rule } from "./schema/FastRules.js"
export {
  CONTRACT_SCHEMA_ID,
  CONTRACT_VERSION_KEYWORD,
  contractJsonSchema,
  JSON_SCHEMA_DRAFTS,
  UNCHECKED_RULES,
  UNCHECKED_RULES_KEYWORD
} from "./schema/JsonSchema.js"
export type { ContractJsonSchemaOptions, JsonObject, JsonSchemaDraft, UncheckedRule } from "./schema/JsonSchema.js"
