#!/usr/bin/env Rscript
# Reference values for ketastats.stats.intervals (binomial proportion CIs).
#
# Run from the project root:
#     Rscript tests/reference/proportions/make_reference.R
# Writes tests/reference/proportions/proportions.json (next to this script).
#
# Needs only base R (package 'stats') and 'jsonlite'.
#
# R calls reproduced:
#   Clopper-Pearson: binom.test(x, n, conf.level = conf_level)$conf.int
#   Wilson score:    prop.test(x, n, conf.level = conf_level, correct = FALSE)$conf.int
# prop.test without continuity correction gives the Wilson score interval; its
# interval does not depend on the null value p, so the default p = 0.5 is kept.
#
# Numbers are written with 17 significant digits (sprintf("%.17g")) so that
# every double round-trips exactly. jsonlite::toJSON() caps numbers at 15
# significant digits even with digits = I(17) or digits = NA, so each number is
# pre-formatted and inserted verbatim (class "json" + json_verbatim = TRUE).
# The script checks the exact round-trip before writing.

suppressPackageStartupMessages(library(jsonlite))

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
out_dir <- if (length(file_arg) == 1L) dirname(normalizePath(file_arg)) else
  file.path("tests", "reference", "proportions")
out_file <- file.path(out_dir, "proportions.json")

# (count, n) grid: the cases required by the ketastats test plan, then extras
# covering more boundaries (count = 0 / n, tiny n, large n).
required <- list(c(16, 22), c(11, 21), c(13, 22), c(8, 21), c(7, 21),
                 c(15, 21), c(13, 21), c(0, 10), c(10, 10), c(1, 1),
                 c(0, 1), c(1, 2), c(50, 100), c(3, 1000), c(999, 1000))
extra <- list(c(0, 2), c(2, 2), c(1, 3), c(2, 5), c(5, 5), c(7, 13),
              c(100, 200), c(0, 1000), c(1, 1000), c(1000, 1000))
grid <- c(required, extra)
conf_levels <- c(0.95, 0.90, 0.99)

call_cp <- "binom.test(x, n, conf.level = conf_level)$conf.int"
call_wilson <- "prop.test(x, n, conf.level = conf_level, correct = FALSE)$conf.int"

num <- function(v) {
  stopifnot(is.numeric(v), length(v) == 1L, is.finite(v))
  structure(sprintf("%.17g", v), class = "json")
}

cases <- list()
raw <- list()     # unformatted values, for the round-trip check
skipped <- list()
for (xn in grid) {
  x <- xn[1]; n <- xn[2]
  for (cl in conf_levels) {
    cp <- as.numeric(binom.test(x, n, conf.level = cl)$conf.int)
    # prop.test warns "Chi-squared approximation may be incorrect" for small
    # expected counts; the warning concerns the p-value, not the interval.
    wi <- tryCatch(
      as.numeric(suppressWarnings(
        prop.test(x, n, conf.level = cl, correct = FALSE)$conf.int)),
      error = function(e) e)
    if (inherits(wi, "error")) {
      skipped[[length(skipped) + 1L]] <- list(
        count = x, n = n, conf_level = num(cl),
        call = call_wilson, error = conditionMessage(wi))
      next
    }
    cases[[length(cases) + 1L]] <- list(
      count = x, n = n, conf_level = num(cl),
      required = any(vapply(required, function(r) all(r == xn), logical(1))),
      clopper_pearson = list(num(cp[1]), num(cp[2])),
      wilson = list(num(wi[1]), num(wi[2])))
    raw[[length(raw) + 1L]] <- c(cl, cp, wi)
  }
}

pkg_versions <- list(stats = as.character(packageVersion("stats")),
                     jsonlite = as.character(packageVersion("jsonlite")))

out <- list(
  description = paste(
    "Binomial proportion confidence intervals from R, reference for",
    "ketastats.stats.intervals (wilson_interval, clopper_pearson_interval)."),
  generated_by = "Rscript tests/reference/proportions/make_reference.R",
  R_version = R.version.string,
  platform = R.version$platform,
  packages = pkg_versions,
  number_format = "sprintf('%.17g') (17 significant digits, exact double round-trip)",
  calls = list(clopper_pearson = call_cp, wilson = call_wilson),
  notes = paste(
    "x = count, conf_level as given; prop.test wrapped in suppressWarnings()",
    "because it warns 'Chi-squared approximation may be incorrect' for small",
    "counts. Intervals are two-sided. 'skipped' lists cases R rejected."),
  cases = cases,
  skipped = skipped)

json <- toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE)

# Check that all numbers survive the text round-trip exactly.
back <- fromJSON(json, simplifyVector = FALSE)
for (i in seq_along(raw)) {
  b <- back$cases[[i]]
  got <- c(b$conf_level, unlist(b$clopper_pearson), unlist(b$wilson))
  if (!identical(got, raw[[i]])) stop("round-trip mismatch in case ", i)
}

writeLines(json, out_file)
cat(sprintf("wrote %d cases (%d skipped) to %s\n", length(cases),
            length(skipped), out_file))
