# Reference values for the baseline_table analysis (Table 1), with base R only, on the shipped synthetic
# ketamine vs ECT trial (ketastats/datasets/ketamine_vs_ect/; the plan's table1 analysis). Run from the root:
#   Rscript tests/reference/baseline_table/make_reference.R
# Writes tests/reference/baseline_table/reference.json: per variable x group (each arm, then Overall)
# n, n_missing, mean, sd, median, q1, q3 (quantile type 7) for numeric variables, table() counts and
# percentages of the non-missing values for categories, and the printed cells with sprintf.
suppressPackageStartupMessages(library(jsonlite))
dir <- "ketastats/datasets/ketamine_vs_ect"
participants <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
ratings <- read.csv(file.path(dir, "ratings.csv"), stringsAsFactors = FALSE)
biomarkers <- read.csv(file.path(dir, "biomarkers.csv"), stringsAsFactors = FALSE)
base_hdrs <- ratings[ratings$visit == "baseline", ]
base_il6 <- biomarkers[biomarkers$visit == "baseline", ]
participants$hdrs_baseline <- base_hdrs$hdrs17[match(participants$participant_id, base_hdrs$participant_id)]
participants$il6_baseline <- base_il6$il6[match(participants$participant_id, base_il6$participant_id)]
participants$arm <- factor(participants$arm, levels = c("ect", "ketamine"))
participants$sex <- factor(participants$sex, levels = c("female", "male"))

groups <- list(ect = participants$arm == "ect", ketamine = participants$arm == "ketamine",
               Overall = rep(TRUE, nrow(participants)))
numeric_vars <- list(age = "mean_sd", episode_months = "median_iqr", hdrs_baseline = "mean_sd",
                     il6_baseline = "median_iqr")
decimals <- list(age = 1, episode_months = 1, hdrs_baseline = 1, il6_baseline = 2)
rows <- list()
for (v in names(numeric_vars)) {
  for (g in names(groups)) {
    x <- participants[[v]][groups[[g]]]
    q <- quantile(x, c(0.25, 0.5, 0.75), type = 7, na.rm = TRUE, names = FALSE)
    d <- decimals[[v]]
    summary <- if (numeric_vars[[v]] == "mean_sd") {
      sprintf("%.*f (%.*f)", d, mean(x, na.rm = TRUE), d, sd(x, na.rm = TRUE))
    } else {
      sprintf("%.*f [%.*f, %.*f]", d, q[2], d, q[1], d, q[3])
    }
    rows[[length(rows) + 1]] <- list(outcome = v, level = NA, group = g, summary_type = numeric_vars[[v]],
      summary = summary, n = sum(!is.na(x)), n_missing = sum(is.na(x)), mean = mean(x, na.rm = TRUE),
      sd = sd(x, na.rm = TRUE), median = q[2], q1 = q[1], q3 = q[3])
  }
}
for (level in levels(participants$sex)) {
  for (g in names(groups)) {
    x <- participants$sex[groups[[g]]]
    counts <- table(x)
    n <- sum(!is.na(x))
    pct <- 100 * counts[[level]] / n
    rows[[length(rows) + 1]] <- list(outcome = "sex", level = level, group = g, summary_type = "count",
      summary = sprintf("%d (%.1f %%)", counts[[level]], pct), n = n, n_missing = sum(is.na(x)),
      count = counts[[level]], percent = pct)
  }
}
write_json(rows, "tests/reference/baseline_table/reference.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")
writeLines(R.version.string, "tests/reference/baseline_table/versions.txt")
