# Regenerate the pinned lavaan numbers the SEM tests compare against.
#
#   .venv/bin/python tests/trust/_oracle_data.py   # data and model files (seeded)
#   Rscript tests/trust/lavaan_oracle.R            # writes tests/trust/data/lavaan_oracle.json
#
# Needs R with lavaan and jsonlite (Debian: apt-get install r-cran-lavaan r-cran-jsonlite).
# Every model is fitted with sem(): ML, expected information, normal likelihood, no mean
# structure. sem() frees the covariances of endogenous disturbances by default (auto.cov.y), so
# every pair not listed as a disturbance covariance is fixed to 0 explicitly.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/trust"
data_dir <- file.path(here, "data")
spec <- fromJSON(file.path(data_dir, "sem_models.json"), simplifyVector = FALSE)

syntax <- function(model) {
  lines <- character()
  for (m in model$measurement) {
    lines <- c(lines, paste0(m[[1]], " =~ ", paste(unlist(m[[2]]), collapse = " + ")))
  }
  targets <- unique(vapply(model$paths, function(p) p[[2]], ""))
  for (t in targets) {
    sources <- vapply(Filter(function(p) p[[2]] == t, model$paths), function(p) p[[1]], "")
    lines <- c(lines, paste0(t, " ~ ", paste(sources, collapse = " + ")))
  }
  endo <- unlist(model$endogenous)
  free <- vapply(model$disturbance_covariances, function(p) paste(sort(unlist(p)), collapse = "|"), "")
  if (length(endo) > 1) {
    for (i in 1:(length(endo) - 1)) for (j in (i + 1):length(endo)) {
      key <- paste(sort(c(endo[i], endo[j])), collapse = "|")
      op <- if (key %in% free) " ~~ " else " ~~ 0*"
      lines <- c(lines, paste0(endo[i], op, endo[j]))
    }
  }
  paste(lines, collapse = "\n")
}

read_keyed <- function(name) {
  d <- read.csv(file.path(data_dir, name), check.names = FALSE)
  for (code in unlist(spec$reverse_keyed)) d[[code]] <- -d[[code]]
  d
}

fit_one <- function(model, data, std_lv) {
  fit <- sem(syntax(model), data = data, estimator = "ML", information = "expected",
             likelihood = "normal", std.lv = std_lv)
  elapsed <- median(vapply(1:5, function(i) system.time(
    sem(syntax(model), data = data, estimator = "ML", information = "expected",
        likelihood = "normal", std.lv = std_lv))[["elapsed"]], 0))
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  keep <- pe$op %in% c("=~", "~", "~~") & !(pe$op == "~~" & pe$est == 0 & is.na(pe$z) & pe$lhs != pe$rhs)
  fm <- fitMeasures(fit, c("chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi",
                           "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "logl",
                           "aic", "bic", "npar", "ntotal"))
  list(
    model = model$name,
    identification = if (std_lv) "unit_variance" else "marker",
    seconds = elapsed,
    parameters = data.frame(lhs = pe$lhs[keep], op = pe$op[keep], rhs = pe$rhs[keep],
                            est = pe$est[keep], se = pe$se[keep],
                            std = ss$est.std[keep], std_se = ss$se[keep]),
    fit = as.list(fm),
    r2 = as.list(inspect(fit, "r2")),
    object = fit
  )
}

out <- list(lavaan_version = as.character(packageVersion("lavaan")),
            r_version = R.version.string, datasets = list())
for (name in c("demo_survey", "latent_kmv")) {
  data <- read_keyed(paste0(name, ".csv"))
  kmv <- spec$models[[1]]
  rival <- spec$models[[2]]
  fits <- list(fit_one(kmv, data, FALSE), fit_one(kmv, data, TRUE), fit_one(rival, data, FALSE))
  lr <- anova(fits[[1]]$object, fits[[3]]$object)
  out$datasets[[name]] <- list(
    fits = lapply(fits, function(f) f[names(f) != "object"]),
    lr = list(chisq = lr[["Chisq diff"]][2], df = lr[["Df diff"]][2], p = lr[["Pr(>Chisq)"]][2])
  )
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, dataframe = "rows", pretty = TRUE),
           file.path(data_dir, "lavaan_oracle.json"))
cat("wrote", file.path(data_dir, "lavaan_oracle.json"), "\n")
