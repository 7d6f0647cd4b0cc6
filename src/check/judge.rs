//! `Judge`: an LLM-as-judge rubric loaded from `judges/NAME.yaml`.

use crate::provider::ModelId;

#[derive(Debug)]
pub struct Judge {
    pub name: String,
    pub model: ModelId,
    /// Template source; compiled (strict undefined) at load.
    pub prompt: String,
    pub system: Option<String>,
    /// The scale the judge answers in; scores are normalised to 0..1.
    pub scale: [f64; 2],
    pub threshold: f64,
    pub soft_threshold: Option<f64>,
    pub retries: u32,
}
