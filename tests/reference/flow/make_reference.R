# Reference counts for the flow analysis (participant flow, CONSORT-style), with base R only, on the shipped
# synthetic ketamine vs ECT trial (ketastats/datasets/ketamine_vs_ect/; the plan's participant_flow analysis).
# Run from the project root:
#   Rscript tests/reference/flow/make_reference.R
# Writes tests/reference/flow/reference.json: per group (each arm, then Overall) randomized, treated
# (n_treatments > 0), assessed at each visit (a ratings row with HDRS-17, among the randomized), completed and
# discontinued by reason, each with its percentage of the randomized.
suppressPackageStartupMessages(library(jsonlite))
dir <- "ketastats/datasets/ketamine_vs_ect"
participants <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
ratings <- read.csv(file.path(dir, "ratings.csv"), stringsAsFactors = FALSE)
visits <- c("baseline", "tx3", "eot", "m1", "m3", "m6")
reasons <- c("adverse_event", "lack_of_efficacy", "withdrew_consent", "lost_to_follow_up")
groups <- list(ect = participants$arm == "ect", ketamine = participants$arm == "ketamine",
               Overall = rep(TRUE, nrow(participants)))
rows <- list()
add <- function(stage, group, count, n, visit = NA, level = NA, n_missing = NA) {
  rows[[length(rows) + 1]] <<- list(stage = stage, visit = visit, level = level, group = group, count = count,
                                    n_subjects = n, n_missing = n_missing, percent = 100 * count / n)
}
for (g in names(groups)) {
  ids <- participants$participant_id[groups[[g]]]
  n <- length(unique(ids))
  add("randomized", g, n, n)
  add("treated", g, sum(participants$n_treatments[groups[[g]]] > 0), n)
  for (v in visits) {
    seen <- unique(ratings$participant_id[ratings$visit == v & !is.na(ratings$hdrs17)])
    count <- sum(ids %in% seen)
    add("assessed", g, count, n, visit = v, n_missing = n - count)
  }
  status <- participants$end_reason[groups[[g]]]
  add("completed", g, sum(status == "completed"), n)
  add("discontinued", g, sum(status != "completed"), n)
  for (r in reasons) add("discontinued", g, sum(status == r), n, level = r)
}
write_json(rows, "tests/reference/flow/reference.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
writeLines(R.version.string, "tests/reference/flow/versions.txt")
