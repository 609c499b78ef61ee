/**
 * The start-up banner: a few lines saying what runs, where files go and where
 * to look (the status page), the rest of the start at DEBUG. Pure.
 */
import * as Option from "effect/Option"
import type { Settings } from "../Config.js"
import { foldersByRole } from "../Folders.js"
import type { FolderSettings, Folders } from "../Folders.js"

/** Where the status page is, as a browser is pointed at it; or why there is none. */
export const statusPageAddress = (settings: Pick<Settings, "metricsPort" | "metricsHost">): string =>
  Option.match(settings.metricsPort, {
    onNone: () => "off (METRICS_PORT is not set)",
    onSome: (port) => `http://${settings.metricsHost.includes(":") ? `[${settings.metricsHost}]` : settings.metricsHost}:${port}/`
  })

/** The folders as the banner shows them, by role, in the folder list's order: `data=… processing=… validated=… returns=… logs=…`. */
export const bannerFolders = (settings: FolderSettings): Folders => foldersByRole(settings)
