//! `schooltas present`

use std::io::Write;

use schooltas_sd_jwt::{HolderSdJwt, KeyBindingInput};

use crate::args::PresentArgs;
use crate::error::{CliError, Result};
use crate::files;

pub(super) fn present(args: &PresentArgs, out: &mut dyn Write) -> Result<()> {
    let text = files::read_text(&args.credential, "credential")?;
    let holder = HolderSdJwt::parse(text.trim()).map_err(|e| CliError::read("credential", &args.credential, e))?;
    let paths = super::claim_paths(&args.disclose, "--disclose")?;
    let failed = |e: schooltas_sd_jwt::Error| CliError::Credential { action: "presenting", source: e.into() };
    let presentation = if args.no_kb {
        holder.present(&paths, None).map_err(failed)?
    } else {
        // Never a silent fallback to no key binding: without --no-kb all three are needed.
        let (Some(key_path), Some(nonce), Some(aud)) = (&args.holder_key, &args.nonce, &args.aud) else {
            return Err(CliError::MissingKeyBinding { needed: "--holder-key, --nonce and --aud" });
        };
        let key = files::read_signing_key(key_path, "holder key file")?;
        let issued_at = match args.iat {
            Some(iat) => iat,
            None => files::now()?,
        };
        let input = KeyBindingInput { nonce: nonce.clone(), audience: aud.clone(), issued_at };
        holder.present(&paths, Some((&key, &input))).map_err(failed)?
    };
    writeln!(out, "{presentation}")?;
    Ok(())
}
