# Reference values for ketastats.multiplicity.adjust / ketastats.stats.p_adjust: R's p.adjust for every
# method on fixed vectors (with a missing value, ties, and a declared family size n larger than the number
# of p-values), and on the raw p-values of the Siegel et al. 2021 primary-outcome family (as ketastats
# computed them on the synthetic replica: MADRS RM-ANOVA, then DMN, sgACC-DMN and limbic time and
# time x response; CGI-I has no test, so the family size is n = 8 for 7 p-values).
# Run from the project root:  Rscript tests/reference/p_adjust/make_reference.R
methods <- c("bonferroni", "holm", "hochberg", "hommel", "BH", "BY")
num <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)
vec <- function(v) paste0("[", paste(vapply(v, num, ""), collapse = ", "), "]")
vectors <- list(
  fixed = c(0.0001, 0.004, 0.0125, 0.019, 0.02, 0.021, 0.037, 0.04, 0.041, 0.3, 0.55, 0.81),
  with_missing_and_ties = c(0.03, NA, 0.01, 0.03, 0.2, 0.001, 0.6, 0.03, NA, 0.049),
  unsorted = c(0.5, 0.012, 0.9, 0.0004, 0.044, 0.3, 0.026, 0.0071),
  two = c(0.02, 0.04),
  one = c(0.03),
  siegel_primary = c(9.4872280289547971e-11, 0.0028191729727027218, 0.050962170656266514, 0.0012320717002297561, 0.02798143314925548, 0.0028336315350579178, 0.54397891858037606)
)
declared <- list(fixed = 15, with_missing_and_ties = 10, unsorted = 8, two = 2, one = 3, siegel_primary = 8)
cases <- character(0)
for (name in names(vectors)) {
  p <- vectors[[name]]
  for (n in unique(c(sum(!is.na(p)), declared[[name]]))) {
    for (m in methods) {
      adj <- p.adjust(p, m, n = n)
      cases <- c(cases, sprintf('{"vector": "%s", "n": %d, "method": "%s", "p": %s, "adjusted": %s}',
                                name, n, m, vec(p), vec(adj)))
    }
  }
}
text <- paste0('{"R_version": "', R.version.string, '", "stats": "', packageVersion("stats"),
               '", "cases": [\n', paste(cases, collapse = ",\n"), "\n]}")
stopifnot(jsonlite::validate(text))
writeLines(text, "tests/reference/p_adjust/p_adjust.json")
