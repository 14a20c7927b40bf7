//! Reading firewall files: format detection and parsing into one ruleset.

use driftwall_parsers::model::{Family, Ruleset};
use driftwall_parsers::{ParseError, Parsed, firewalld, iptables, nft, pf, ufw};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// Guess from the file's name and content.
    Auto,
    /// iptables-save / iptables-restore (IPv4), also ufw's rule files.
    Iptables,
    /// ip6tables-save / ip6tables-restore (IPv6).
    Ip6tables,
    /// The nft language: `nft list ruleset`, /etc/nftables.conf.
    Nftables,
    /// `nft -j list ruleset`.
    #[value(name = "nft-json")]
    #[serde(rename = "nft-json")]
    NftJson,
    /// A ufw configuration folder (/etc/ufw), read as ufw loads it; a file
    /// in it stands for its folder. `auto` picks this for a folder.
    Ufw,
    /// pf.conf (OpenBSD, FreeBSD, macOS), `pfctl -sr` output.
    Pf,
    /// A firewalld configuration folder (/etc/firewalld), read as firewalld
    /// applies it; a file in it stands for its folder. `auto` picks this
    /// for a folder with `firewalld.conf` or `zones/`.
    Firewalld,
}

/// How to read inputs beyond their format.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// ufw's defaults file; without it, `ROOT/etc/default/ufw` for a
    /// configuration folder `ROOT/etc/ufw`.
    pub ufw_defaults: Option<PathBuf>,
    /// firewalld's stock definitions: a folder, or `builtin` for the
    /// built-in table; without it, `ROOT/usr/lib/firewalld` for a folder
    /// `ROOT/etc/firewalld`, else `/usr/lib/firewalld`, else the table.
    pub firewalld_stock: Option<PathBuf>,
}

/// Parse errors quoted per file where a person reads them (the human
/// report, unless `--error-limit` says otherwise, and an alert): a file that is
/// not the format at all (a log of another tool, in the corpus) gives one
/// error a line, ten thousand of them, and a reader wants the first few and
/// the count. clang's `-ferror-limit` is 20 too.
pub const QUOTED_ERRORS: usize = 20;

/// A parsed input file.
#[derive(Debug)]
pub struct Input {
    pub path: String,
    pub format: InputFormat,
    pub ruleset: Ruleset,
    pub errors: Vec<ParseError>,
}

#[derive(Debug, thiserror::Error)]
// The cause is in the message, and not also a `source`, or `{:#}` would
// say it twice.
#[error("{path}: cannot read the file: {error}")]
pub struct ReadError {
    pub path: String,
    pub error: std::io::Error,
}

/// A file's text: firewall files are text, and a stray invalid byte must
/// not stop the audit (it becomes U+FFFD); a byte-order mark before the
/// first line, which editors on Windows add and which would make the first
/// statement unreadable (`*filter` "outside a table", with the mark
/// invisible), is dropped.
pub fn text_of(bytes: Vec<u8>) -> String {
    crate::fsutil::without_bom(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Reads and parses one file, or a ufw configuration folder.
pub fn load(path: &Path, format: InputFormat) -> Result<Input, ReadError> {
    load_with(path, format, &Options::default())
}

/// [`load`] with options.
pub fn load_with(path: &Path, format: InputFormat, options: &Options) -> Result<Input, ReadError> {
    if format == InputFormat::Firewalld
        || (format == InputFormat::Auto && path.is_dir() && is_firewalld_dir(path))
    {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            firewalld_dir_of(path)
        };
        return load_firewalld(&dir, options.firewalld_stock.as_deref());
    }
    if format == InputFormat::Ufw || (format == InputFormat::Auto && path.is_dir()) {
        let dir = if path.is_dir() {
            path
        } else {
            path.parent().unwrap_or(Path::new("."))
        };
        return load_ufw(dir, options.ufw_defaults.as_deref());
    }
    let shown = path.display().to_string();
    let bytes = crate::fsutil::read_input(path).map_err(|source| ReadError {
        path: shown.clone(),
        error: source,
    })?;
    // Firewall files are text; a stray invalid byte must not stop the audit.
    let text = text_of(bytes);
    Ok(load_text(path, text, format))
}

/// Parses a file's text already read (nft includes are read from its folder).
pub fn load_text(path: &Path, text: String, format: InputFormat) -> Input {
    load_text_with(
        &path.display().to_string(),
        text,
        format,
        &include_loader(path, IncludeFiles::Disk),
    )
}

/// Parses text shown as `shown`, with nft includes read by `includes`
/// (from the disk, or from a Git revision).
pub fn load_text_with(
    shown: &str,
    text: String,
    format: InputFormat,
    includes: &nft::IncludeLoader,
) -> Input {
    let format = resolve(shown, &text, format);
    let parsed = match format {
        InputFormat::Ufw => return ufw_of_text(shown, &text),
        InputFormat::Firewalld => return firewalld_of_text(shown, &text),
        InputFormat::Nftables => nft::parse_with(shown, &text, includes),
        InputFormat::NftJson => nft::parse_json(shown, &text),
        InputFormat::Pf => pf::parse_ruleset(shown, &text, includes),
        _ => iptables::parse_owned(shown, text, family_of(format)),
    };
    Input {
        path: shown.to_string(),
        format,
        ruleset: parsed.ruleset,
        errors: parsed.errors,
    }
}

/// A firewalld configuration folder: it has `firewalld.conf` or `zones/`,
/// and no `ufw.conf` (a folder otherwise means ufw).
pub fn is_firewalld_dir(dir: &Path) -> bool {
    !dir.join("ufw.conf").exists()
        && (dir.join("firewalld.conf").is_file() || dir.join("zones").is_dir())
}

/// The configuration folder a file of it stands for: `zones/x.xml` is in
/// the folder above `zones/`.
fn firewalld_dir_of(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new("."));
    let kinds = [
        "zones",
        "services",
        "policies",
        "ipsets",
        "icmptypes",
        "helpers",
    ];
    match parent.file_name().and_then(|n| n.to_str()) {
        Some(name) if kinds.contains(&name) => {
            parent.parent().unwrap_or(Path::new(".")).to_path_buf()
        }
        _ => parent.to_path_buf(),
    }
}

/// The firewalld configuration folder `dir` with its stock definitions,
/// read as firewalld applies it.
pub fn load_firewalld(dir: &Path, stock: Option<&Path>) -> Result<Input, ReadError> {
    let user = firewalld_folder(dir)?;
    let stock = firewalld_stock(dir, stock)?;
    Ok(firewalld_input(&dir.display().to_string(), user, stock))
}

/// The ruleset of a firewalld folder's files over its stock definitions.
pub fn firewalld_input(
    shown: &str,
    user: firewalld::Folder,
    stock: Option<firewalld::Folder>,
) -> Input {
    let read = firewalld::read(&firewalld::Files { user, stock });
    Input {
        path: shown.to_string(),
        format: InputFormat::Firewalld,
        ruleset: read.parsed.ruleset,
        errors: read.parsed.errors,
    }
}

/// The stock definitions for the folder `dir`: `stock` (a folder, or
/// `builtin`), else `ROOT/usr/lib/firewalld` beside `ROOT/etc/firewalld`,
/// else the host's `/usr/lib/firewalld`; `None` for the built-in table.
pub fn firewalld_stock(
    dir: &Path,
    stock: Option<&Path>,
) -> Result<Option<firewalld::Folder>, ReadError> {
    let stock_dir = match stock {
        Some(p) if p == Path::new("builtin") => None,
        // A folder named on purpose must be there: an empty stock would
        // leave every stock zone and service undefined.
        Some(p) if !p.is_dir() => {
            return Err(ReadError {
                path: p.display().to_string(),
                error: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not a folder of firewalld's stock definitions (or `builtin`)",
                ),
            });
        }
        // `ROOT/etc/firewalld` takes `ROOT/usr/lib/firewalld`, as on the host.
        _ => firewalld_stock_dir(dir, stock),
    };
    match stock_dir {
        Some(d) => Ok(Some(firewalld_folder(&d)?)),
        None => Ok(None),
    }
}

/// The files of one firewalld folder, each kind's `*.xml` sorted by name.
pub fn firewalld_folder(dir: &Path) -> Result<firewalld::Folder, ReadError> {
    let error = |path: &Path, source| ReadError {
        path: path.display().to_string(),
        error: source,
    };
    let xml_in = |kind: &str| -> Result<Vec<firewalld::FileText>, ReadError> {
        let sub = dir.join(kind);
        if !sub.is_dir() {
            return Ok(Vec::new());
        }
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&sub)
            .map_err(|e| error(&sub, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "xml"))
            .collect();
        paths.sort();
        let mut out = Vec::new();
        for p in paths {
            if let Some(file) = read_if_present(&p)? {
                out.push(file);
            }
        }
        Ok(out)
    };
    Ok(firewalld::Folder {
        dir: dir.display().to_string(),
        conf: read_if_present(&dir.join("firewalld.conf"))?,
        zones: xml_in("zones")?,
        services: xml_in("services")?,
        policies: xml_in("policies")?,
        ipsets: xml_in("ipsets")?,
        icmptypes: xml_in("icmptypes")?,
        helpers: xml_in("helpers")?,
        direct: read_if_present(&dir.join("direct.xml"))?,
    })
}

/// The files of a firewalld configuration folder and of the stock
/// definitions it is read over ([`firewalld_stock`]).
pub fn firewalld_files(dir: &Path, stock: Option<&Path>) -> Result<firewalld::Files, ReadError> {
    Ok(firewalld::Files {
        user: firewalld_folder(dir)?,
        stock: firewalld_stock(dir, stock)?,
    })
}

/// The folder of stock definitions [`firewalld_stock`] reads for `dir`;
/// `None` for the built-in table (or a named folder that is not there).
pub fn firewalld_stock_dir(dir: &Path, stock: Option<&Path>) -> Option<PathBuf> {
    match stock {
        Some(p) if p == Path::new("builtin") => None,
        Some(p) => p.is_dir().then(|| p.to_path_buf()),
        None => dir
            .parent()
            .filter(|etc| etc.file_name().is_some_and(|n| n == "etc"))
            .and_then(Path::parent)
            .map(|root| root.join("usr/lib/firewalld"))
            .filter(|p| p.is_dir())
            .or_else(|| {
                let host = PathBuf::from("/usr/lib/firewalld");
                host.is_dir().then_some(host)
            }),
    }
}

/// The first line of [`firewalld_bundle`]'s text.
const FIREWALLD_HEADER: &str = "# driftwall: a firewalld configuration, file by file\n";

/// The slots of one firewalld folder's files in a bundle, `prefix` for the
/// stock folder's.
fn firewalld_slots<'a>(
    prefix: &'static str,
    folder: &'a firewalld::Folder,
) -> Vec<(String, &'a str, &'a str)> {
    let mut out = vec![(format!("{prefix}dir"), folder.dir.as_str(), "")];
    let one = |slot: &str, f: &'a Option<firewalld::FileText>| {
        f.as_ref()
            .map(|(p, t)| (format!("{prefix}{slot}"), p.as_str(), t.as_str()))
    };
    out.extend(one("conf", &folder.conf));
    for (kind, files) in [
        ("zones", &folder.zones),
        ("services", &folder.services),
        ("policies", &folder.policies),
        ("ipsets", &folder.ipsets),
        ("icmptypes", &folder.icmptypes),
        ("helpers", &folder.helpers),
    ] {
        out.extend(
            files
                .iter()
                .map(|(p, t)| (format!("{prefix}{kind}"), p.as_str(), t.as_str())),
        );
    }
    out.extend(one("direct", &folder.direct));
    out
}

/// The files of a firewalld configuration (and of its stock folder, when
/// one is read) as one [`bundle`], read back with [`load_text`]
/// (`firewalld` format) without the disk: a change to any file is a new
/// text. A path a bundle's line cannot hold (a newline in it) is kept with
/// the newline written `\n`.
pub fn firewalld_bundle(files: &firewalld::Files) -> String {
    let mut slots = firewalld_slots("", &files.user);
    if let Some(stock) = &files.stock {
        slots.extend(firewalld_slots("stock-", stock));
    }
    let paths: Vec<String> = slots
        .iter()
        .map(|(_, p, _)| p.replace('\n', "\\n"))
        .collect();
    bundle(
        FIREWALLD_HEADER,
        slots
            .iter()
            .zip(&paths)
            .map(|((slot, _, body), path)| (slot.as_str(), path.as_str(), *body)),
    )
}

/// Reads [`firewalld_bundle`]'s text back; `None` if `text` is not one.
fn firewalld_unbundle(text: &str) -> Option<firewalld::Files> {
    let mut files = firewalld::Files::default();
    for (slot, path, body) in unbundle(FIREWALLD_HEADER, text)? {
        let (folder, slot) = match slot.strip_prefix("stock-") {
            Some(rest) => (files.stock.get_or_insert_with(Default::default), rest),
            None => (&mut files.user, slot.as_str()),
        };
        let file = (path.clone(), body);
        match slot {
            "dir" => folder.dir = path,
            "conf" => folder.conf = Some(file),
            "direct" => folder.direct = Some(file),
            kind if FIREWALLD_KINDS.contains(&kind) => firewalld_put(folder, kind, file),
            _ => return None,
        }
    }
    Some(files)
}

/// The kinds of XML files a firewalld folder holds, by sub-folder.
pub const FIREWALLD_KINDS: [&str; 6] = [
    "zones",
    "services",
    "policies",
    "ipsets",
    "icmptypes",
    "helpers",
];

/// Puts a file of sub-folder `kind` into its slot of `folder`.
pub fn firewalld_put(folder: &mut firewalld::Folder, kind: &str, file: firewalld::FileText) {
    match kind {
        "zones" => folder.zones.push(file),
        "services" => folder.services.push(file),
        "policies" => folder.policies.push(file),
        "ipsets" => folder.ipsets.push(file),
        "icmptypes" => folder.icmptypes.push(file),
        _ => folder.helpers.push(file),
    }
}

/// One firewalld file's text alone (from a Git revision, or the daemon):
/// the folder it belongs to holds only it, with the built-in stock table.
fn firewalld_of_text(shown: &str, text: &str) -> Input {
    if let Some(files) = firewalld_unbundle(text) {
        let read = firewalld::read(&files);
        return Input {
            path: shown.to_string(),
            format: InputFormat::Firewalld,
            ruleset: read.parsed.ruleset,
            errors: read.parsed.errors,
        };
    }
    let file = (shown.to_string(), text.to_string());
    let path = Path::new(shown);
    let mut user = firewalld::Folder {
        dir: firewalld_dir_of(path).display().to_string(),
        ..firewalld::Folder::default()
    };
    let kind = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    match kind {
        "services" => user.services.push(file),
        "policies" => user.policies.push(file),
        "ipsets" => user.ipsets.push(file),
        "icmptypes" => user.icmptypes.push(file),
        "helpers" => user.helpers.push(file),
        _ if shown.ends_with("firewalld.conf") => user.conf = Some(file),
        _ if shown.ends_with("direct.xml") => user.direct = Some(file),
        _ => user.zones.push(file),
    }
    let read = firewalld::read(&firewalld::Files { user, stock: None });
    Input {
        path: shown.to_string(),
        format: InputFormat::Firewalld,
        ruleset: read.parsed.ruleset,
        errors: read.parsed.errors,
    }
}

/// The files of the ufw configuration folder `dir`, read as ufw-init reads
/// them, and the ruleset it would load.
pub fn load_ufw(dir: &Path, defaults: Option<&Path>) -> Result<Input, ReadError> {
    let files = ufw_files(dir, defaults)?;
    let read = ufw::read(&files);
    Ok(Input {
        path: dir.display().to_string(),
        format: InputFormat::Ufw,
        ruleset: read.parsed.ruleset,
        errors: read.parsed.errors,
    })
}

/// Where ufw-init finds each file when `dir` stands for `/etc/ufw`: the
/// defaults file and an absolute `IPT_SYSCTL` under `/etc/` are taken from
/// the same root (`ROOT/etc/default/ufw` for `ROOT/etc/ufw`), so a copy of
/// `/etc` reads as the host would.
pub fn ufw_files(dir: &Path, defaults: Option<&Path>) -> Result<ufw::Files, ReadError> {
    ufw_files_with(dir, defaults, &read_if_present, &is_executable)
}

/// [`ufw_files`] with the files read by `read` (`None`: not there) and
/// the scripts' mode told by `executable`: from the disk, or from a Git
/// revision.
pub fn ufw_files_with<E>(
    dir: &Path,
    defaults: Option<&Path>,
    read: &dyn Fn(&Path) -> Result<Option<ufw::FileText>, E>,
    executable: &dyn Fn(&Path) -> bool,
) -> Result<ufw::Files, E> {
    let etc = dir.parent().unwrap_or(Path::new("/"));
    let defaults_path = defaults
        .map(Path::to_path_buf)
        .unwrap_or_else(|| etc.join("default/ufw"));
    // An absent file is given as empty, which the reader takes as absent,
    // so that its error names the path where it was looked for.
    let or_empty = |path: &Path| -> Result<Option<ufw::FileText>, E> {
        Ok(read(path)?.or_else(|| Some((path.display().to_string(), String::new()))))
    };
    let in_dir = |name: &str| or_empty(&dir.join(name));
    let ufw_conf = in_dir("ufw.conf")?;
    let defaults = or_empty(&defaults_path)?;
    let sysctl_path = ufw::sysctl_path(
        defaults.as_ref().map_or("", |(_, t)| t.as_str()),
        ufw_conf.as_ref().map_or("", |(_, t)| t.as_str()),
    );
    let sysctl_path = sysctl_path.map(|p| match p.strip_prefix("/etc/") {
        Some(rest) => etc.join(rest),
        None => PathBuf::from(p),
    });
    // ufw-init runs these scripts only when they are executable.
    let script = |name: &str| -> Result<Option<ufw::FileText>, E> {
        let path = dir.join(name);
        if executable(&path) {
            read(&path)
        } else {
            Ok(None)
        }
    };
    Ok(ufw::Files {
        dir: dir.display().to_string(),
        ufw_conf,
        defaults,
        before_rules: in_dir("before.rules")?,
        before6_rules: in_dir("before6.rules")?,
        user_rules: in_dir("user.rules")?,
        user6_rules: in_dir("user6.rules")?,
        after_rules: in_dir("after.rules")?,
        after6_rules: in_dir("after6.rules")?,
        sysctl: match sysctl_path {
            Some(p) => read(&p)?,
            None => None,
        },
        before_init: script("before.init")?,
        after_init: script("after.init")?,
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A file's path and text; `None` if there is no file there.
fn read_if_present(path: &Path) -> Result<Option<ufw::FileText>, ReadError> {
    let shown = path.display().to_string();
    match crate::fsutil::read_input(path) {
        Ok(bytes) => Ok(Some((shown, text_of(bytes)))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReadError {
            path: shown,
            error: source,
        }),
    }
}

/// Several files kept as one text, which the daemon hashes, keeps as a
/// baseline and reads back: a header line saying what the files are, then
/// `@@ <slot> <length> <path>` and the file's text for each file. The
/// length, in bytes, makes any text safe inside, a line starting with `@@`
/// included.
fn bundle<'a>(
    header: &str,
    files: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> String {
    let mut text = String::from(header);
    for (slot, path, body) in files {
        text += &format!("@@ {slot} {} {path}\n{body}\n", body.len());
    }
    text
}

/// One file of a [`bundle`]: its slot, path and text.
type BundledFile = (String, String, String);

/// Reads [`bundle`]'s text back; `None` if `text` is not one made with `header`.
fn unbundle(header: &str, text: &str) -> Option<Vec<BundledFile>> {
    let mut rest = text.strip_prefix(header)?;
    let mut files = Vec::new();
    while let Some(line_end) = rest.find('\n') {
        let head = rest.get(..line_end)?.strip_prefix("@@ ")?;
        let mut parts = head.splitn(3, ' ');
        let (slot, len, path) = (parts.next()?, parts.next()?, parts.next().unwrap_or(""));
        let len: usize = len.parse().ok()?;
        let body_start = line_end + 1;
        let body_end = body_start.checked_add(len)?;
        let body = rest.get(body_start..body_end)?;
        // Each text ends with a newline of the bundle's own.
        if rest.get(body_end..body_end + 1) != Some("\n") {
            return None;
        }
        rest = rest.get(body_end + 1..).unwrap_or("");
        files.push((slot.to_string(), path.to_string(), body.to_string()));
    }
    rest.is_empty().then_some(files)
}

/// The first line of [`ufw_bundle`]'s text.
const UFW_HEADER: &str = "# driftwall: a ufw configuration, file by file\n";

/// The files of a ufw configuration as one [`bundle`], read back with
/// [`load_text`] (`ufw` format): the folder, then each file present in its
/// slot.
pub fn ufw_bundle(files: &ufw::Files) -> String {
    let present = ufw_slots(files).into_iter().filter_map(|(slot, file)| {
        file.as_ref()
            .map(|(path, body)| (slot, path.as_str(), body.as_str()))
    });
    bundle(
        UFW_HEADER,
        std::iter::once(("dir", files.dir.as_str(), "")).chain(present),
    )
}

fn ufw_slots(files: &ufw::Files) -> [(&'static str, &Option<ufw::FileText>); 11] {
    [
        ("ufw.conf", &files.ufw_conf),
        ("defaults", &files.defaults),
        ("before.rules", &files.before_rules),
        ("before6.rules", &files.before6_rules),
        ("user.rules", &files.user_rules),
        ("user6.rules", &files.user6_rules),
        ("after.rules", &files.after_rules),
        ("after6.rules", &files.after6_rules),
        ("sysctl", &files.sysctl),
        ("before.init", &files.before_init),
        ("after.init", &files.after_init),
    ]
}

/// Reads [`ufw_bundle`]'s text back; `None` if `text` is not one.
fn ufw_unbundle(text: &str) -> Option<ufw::Files> {
    let mut files = ufw::Files::default();
    for (slot, path, body) in unbundle(UFW_HEADER, text)? {
        let file = Some((path.clone(), body));
        match slot.as_str() {
            "dir" => files.dir = path,
            "ufw.conf" => files.ufw_conf = file,
            "defaults" => files.defaults = file,
            "before.rules" => files.before_rules = file,
            "before6.rules" => files.before6_rules = file,
            "user.rules" => files.user_rules = file,
            "user6.rules" => files.user6_rules = file,
            "after.rules" => files.after_rules = file,
            "after6.rules" => files.after6_rules = file,
            "sysctl" => files.sysctl = file,
            "before.init" => files.before_init = file,
            "after.init" => files.after_init = file,
            _ => return None,
        }
    }
    Some(files)
}

/// A ufw configuration is a folder: one text is either [`ufw_bundle`]'s, or
/// (a Git revision of one file) the rule file it names, in a folder with
/// nothing else, which the errors then name.
fn ufw_of_text(shown: &str, text: &str) -> Input {
    if let Some(files) = ufw_unbundle(text) {
        let read = ufw::read(&files);
        return Input {
            path: shown.to_string(),
            format: InputFormat::Ufw,
            ruleset: read.parsed.ruleset,
            errors: read.parsed.errors,
        };
    }
    let name = Path::new(shown)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let dir = Path::new(shown)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut files = ufw::Files {
        dir,
        ..ufw::Files::default()
    };
    let file = Some((shown.to_string(), text.to_string()));
    match name {
        "ufw.conf" => files.ufw_conf = file,
        "before.rules" => files.before_rules = file,
        "before6.rules" => files.before6_rules = file,
        "after.rules" => files.after_rules = file,
        "after6.rules" => files.after6_rules = file,
        "user6.rules" => files.user6_rules = file,
        _ => files.user_rules = file,
    }
    let read = ufw::read(&files);
    Input {
        path: shown.to_string(),
        format: InputFormat::Ufw,
        ruleset: read.parsed.ruleset,
        errors: read.parsed.errors,
    }
}

fn family_of(format: InputFormat) -> Family {
    if format == InputFormat::Ip6tables {
        Family::Ipv6
    } else {
        Family::Ipv4
    }
}

/// Where the files an `include` names are read from.
#[derive(Clone, Copy)]
enum IncludeFiles<'a> {
    /// The disk.
    Disk,
    /// The files a [`Bundled`] text kept, as they were when it was read.
    Kept(&'a [BundledFile]),
}

/// The path an `include` (nft) or `include`/`load anchor ... from` (pf)
/// names: relative to the including file's folder, or to the top file's
/// for text without a folder.
fn include_target(top_dir: &Path, including: &str, pattern: &str) -> PathBuf {
    if Path::new(pattern).is_absolute() {
        return PathBuf::from(pattern);
    }
    let base = Path::new(including)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| top_dir.to_path_buf());
    base.join(pattern)
}

/// `--include-root`, when given.
static INCLUDE_ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Sets the folder includes may be read under (`--include-root`).
pub fn set_include_root(dir: &Path) {
    let _ = INCLUDE_ROOT.set(dir.to_path_buf());
}

/// The folder the includes of `top` may be read under, resolved: the one
/// given, or the folder driftwall runs in for a relative `top`, or `top`'s
/// own folder for an absolute one. A ruleset under review (a pull request)
/// must not read `/etc/shadow` or `/proc/self/environ` through an
/// `include` and show its first line in an error (issue 18).
fn include_root(top: &Path) -> Option<PathBuf> {
    let dir = match INCLUDE_ROOT.get() {
        Some(d) => d.clone(),
        None if top.is_absolute() => top.parent()?.to_path_buf(),
        None => std::env::current_dir().ok()?,
    };
    std::fs::canonicalize(dir).ok()
}

/// Reads the files an `include` (nft, pf) or a `load anchor ... from` (pf)
/// names: relative to the including file's folder (and to the top file's),
/// with glob patterns expanded in name order, as nft does; from the disk or
/// from a bundle. From the disk, only files under the include root
/// ([`include_root`]), links resolved.
fn include_loader<'a>(
    top: &Path,
    from: IncludeFiles<'a>,
) -> impl Fn(&str, &str) -> Result<Vec<(String, String)>, String> + 'a {
    let top_dir = top.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = include_root(top);
    move |including: &str, pattern: &str| {
        let full = include_target(&top_dir, including, pattern);
        let paths = match from {
            IncludeFiles::Disk => expand_glob(&full)?,
            IncludeFiles::Kept(files) => kept_glob(files, &full),
        };
        if paths.is_empty() && !pattern.contains(['*', '?', '[']) {
            return Err(format!(
                "cannot read included file `{}`: not found",
                full.display()
            ));
        }
        paths
            .into_iter()
            .map(|p| match from {
                IncludeFiles::Disk => {
                    outside_root(&p, root.as_deref())?;
                    read_included(&p)
                }
                IncludeFiles::Kept(files) => files
                    .iter()
                    .find(|(_, path, _)| Path::new(path) == p)
                    .map(|(_, path, text)| (path.clone(), text.clone()))
                    .ok_or_else(|| {
                        format!("cannot read included file `{}`: not found", p.display())
                    }),
            })
            .collect()
    }
}

/// Refuses an included file whose real path (links resolved) is not under
/// `root`; one that does not exist is left to [`read_included`].
fn outside_root(p: &Path, root: Option<&Path>) -> Result<(), String> {
    let (Some(root), Ok(real)) = (root, std::fs::canonicalize(p)) else {
        return Ok(());
    };
    if real.starts_with(root) {
        return Ok(());
    }
    Err(format!(
        "cannot include `{}`: it is outside `{}`, the folder includes are read under (--include-root sets it; `/` allows any)",
        p.display(),
        root.display()
    ))
}

/// One included file from the disk.
fn read_included(p: &Path) -> Result<(String, String), String> {
    // nft includes regular files only (not /dev/null or a folder).
    if !p.is_file() {
        return Err(format!(
            "cannot include `{}`: not a regular file",
            p.display()
        ));
    }
    let text = crate::fsutil::read_input(p)
        .map_err(|e| format!("cannot read included file `{}`: {e}", p.display()))?;
    Ok((p.display().to_string(), text_of(text)))
}

/// [`expand_glob`] over the files a bundle kept: the folder held then
/// what the bundle holds of it, since every file read is in the bundle.
fn kept_glob(files: &[BundledFile], full: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = files
        .iter()
        .map(|(_, path, _)| PathBuf::from(path))
        .filter(|p| path_matches(full, p))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `path` is one of the files the pattern `full` names, part by
/// part, as [`expand_glob`] finds them on disk.
fn path_matches(full: &Path, path: &Path) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (full.components().collect(), path.components().collect());
    a.len() == b.len()
        && a.iter().zip(&b).all(|(pat, part)| {
            match (pat.as_os_str().to_str(), part.as_os_str().to_str()) {
                (Some(pat), Some(part)) if pat.contains(['*', '?', '[']) => {
                    (!part.starts_with('.') || pat.starts_with('.')) && glob_match(pat, part)
                }
                _ => pat == part,
            }
        })
}

/// The first line of a [`Bundled`] text that holds more than its file.
const INCLUDES_HEADER: &str = "# driftwall: a file and the files it includes, file by file\n";

/// A file as the daemon keeps it: its text, with every file its parse read
/// through the include loader (nft `include`, pf `include` and
/// `load anchor ... from`), so that a change to any of them is a new
/// version of the file, and an old version reads back as it was.
#[derive(Debug)]
pub struct Bundled {
    /// The file's text alone if its parse asked for no include, or else a
    /// [`bundle`]: the file (slot `file`), then the files read in the order
    /// they were read (slot `include`).
    pub text: String,
    /// The folders the includes were looked for in, where a file that
    /// changes, appears or goes away changes the text.
    pub folders: std::collections::BTreeSet<PathBuf>,
    /// The file parsed, if it had to be to know what it includes.
    pub input: Option<Input>,
}

/// What the include loader read while a file was parsed.
#[derive(Default)]
struct Recorded {
    asked: bool,
    files: Vec<(String, String)>,
    folders: std::collections::BTreeSet<PathBuf>,
}

/// Reads a file and parses it, and keeps what its includes read ([`Bundled`]).
pub fn read_bundled(path: &Path, format: InputFormat) -> Result<Bundled, ReadError> {
    let shown = path.display().to_string();
    let bytes = crate::fsutil::read_input(path).map_err(|source| ReadError {
        path: shown.clone(),
        error: source,
    })?;
    let text = text_of(bytes);
    // Only `include` (nft, pf) and `load anchor` (pf) read other files, and
    // only from the top file on: without the words, the text is all there
    // is, and a file that did not change is not parsed again.
    if !text.contains("include") && !text.contains("load") {
        return Ok(Bundled {
            text,
            folders: Default::default(),
            input: None,
        });
    }
    let recorded = std::cell::RefCell::new(Recorded::default());
    let disk = include_loader(path, IncludeFiles::Disk);
    let top_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let recording = |including: &str, pattern: &str| {
        let read = disk(including, pattern);
        let mut r = recorded.borrow_mut();
        r.asked = true;
        if let Some(folder) = include_target(&top_dir, including, pattern).parent() {
            r.folders.insert(folder.to_path_buf());
        }
        if let Ok(files) = &read {
            for file in files {
                // A file read twice (included twice) is kept once: its text is the same.
                if !r.files.iter().any(|(p, _)| *p == file.0) {
                    r.files.push(file.clone());
                }
            }
        }
        read
    };
    let input = load_text_with(&shown, text.clone(), format, &recording);
    let Recorded {
        asked,
        files,
        folders,
    } = recorded.into_inner();
    // A file that includes nothing stays as it is: its kept text and hash
    // are what they were before includes were kept. (So does one whose
    // paths a bundle's lines cannot hold; its includes are then read from
    // the disk when it is read again, as they were before bundles.)
    let unbundleable = shown.contains('\n') || files.iter().any(|(p, _)| p.contains('\n'));
    let text = if asked && !unbundleable {
        bundle(
            INCLUDES_HEADER,
            std::iter::once(("file", shown.as_str(), text.as_str())).chain(
                files
                    .iter()
                    .map(|(p, t)| ("include", p.as_str(), t.as_str())),
            ),
        )
    } else {
        text
    };
    Ok(Bundled {
        text,
        folders,
        input: Some(input),
    })
}

/// The text of the file itself in a text [`read_bundled`] kept as a bundle;
/// `None` for a file kept alone.
pub fn kept_file_text(text: &str) -> Option<String> {
    let (slot, _, body) = unbundle(INCLUDES_HEADER, text)?.into_iter().next()?;
    (slot == "file").then_some(body)
}

/// Parses a text [`read_bundled`] kept: its includes come from the bundle,
/// as they were when it was read. A text without the bundle's header is a
/// file alone (or a state file from before includes were kept), whose
/// includes are read from the disk.
pub fn load_kept(path: &Path, text: &str, format: InputFormat) -> Input {
    let Some(files) = unbundle(INCLUDES_HEADER, text) else {
        return load_text(path, text.to_string(), format);
    };
    let Some((_, top, top_text)) = files.first().filter(|(slot, _, _)| slot == "file") else {
        return load_text(path, text.to_string(), format);
    };
    let included = files.get(1..).unwrap_or_default();
    load_text_with(
        top,
        top_text.clone(),
        format,
        &include_loader(Path::new(top), IncludeFiles::Kept(included)),
    )
}

/// The files a path with `*`, `?` or `[...]` in its last part names, sorted.
fn expand_glob(full: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    use std::path::{Component, PathBuf};
    let wild = |c: &str| c.contains(['*', '?', '[']);
    if !full.to_str().is_some_and(wild) {
        return Ok(if full.exists() {
            vec![full.to_path_buf()]
        } else {
            Vec::new()
        });
    }
    // As glob(3) does for nft: each part of the path may hold a pattern
    // (`dir/*/r.nft`); a pattern's `*` and `?` do not match a leading dot;
    // the matches come sorted. A pattern that matches nothing is no error
    // in nft, a missing folder included.
    let parts: Vec<Component> = full.components().collect();
    let mut found: Vec<PathBuf> = vec![PathBuf::new()];
    for (k, part) in parts.iter().enumerate() {
        let last = k + 1 == parts.len();
        let name = match part {
            Component::Normal(n) => n.to_str().unwrap_or(""),
            other => {
                for f in &mut found {
                    f.push(other.as_os_str());
                }
                continue;
            }
        };
        if !wild(name) {
            for f in &mut found {
                f.push(name);
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &found {
            let listed = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir.as_path()
            };
            if !listed.is_dir() {
                continue;
            }
            for e in std::fs::read_dir(listed)
                .map_err(|e| format!("cannot list `{}`: {e}", listed.display()))?
                .filter_map(|e| e.ok())
            {
                let Some(n) = e.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                if n.starts_with('.') && !name.starts_with('.') {
                    continue;
                }
                if glob_match(name, &n) {
                    next.push(dir.join(&n));
                }
            }
        }
        if !last {
            next.retain(|p| p.is_dir());
        }
        found = next;
    }
    found.retain(|p| p.is_file());
    found.sort();
    Ok(found)
}

/// Shell-style matching of one name: `*`, `?` and `[...]` classes.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => {
                let Some(close) = p.iter().position(|c| *c == ']') else {
                    return !n.is_empty() && n[0] == '[' && go(&p[1..], &n[1..]);
                };
                let class = &p[1..close];
                let Some(c) = n.first() else { return false };
                let (neg, class) = match class.first() {
                    Some('!') | Some('^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= *c && *c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == *c;
                        i += 1;
                    }
                }
                hit != neg && go(&p[close + 1..], &n[1..])
            }
            Some(ch) => n.first() == Some(ch) && go(&p[1..], &n[1..]),
        }
    }
    go(&p, &n)
}

/// The concrete format of a file, guessing from its name and text for `auto`.
fn resolve(path: &str, text: &str, format: InputFormat) -> InputFormat {
    match format {
        InputFormat::Auto => detect(path, text),
        f => f,
    }
}

/// nft JSON starts with `{"nftables"`; pf.conf is what `pf::looks_like_pf`
/// says it is; the nft language has `table`,
/// `flush ruleset`, `define` or `include` statements and no `*table` or
/// `-A` lines; everything else is read as iptables.
fn detect(path: &str, text: &str) -> InputFormat {
    let start = text.trim_start();
    if start.starts_with('{') && start[1..].trim_start().starts_with("\"nftables\"") {
        return InputFormat::NftJson;
    }
    if pf::looks_like_pf(text) {
        return InputFormat::Pf;
    }
    let mut nft_words = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .take(200)
    {
        if line.starts_with('*')
            || line.starts_with("-A ")
            || line.starts_with(':')
            || line == "COMMIT"
        {
            break;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if matches!(
            first,
            "table" | "flush" | "define" | "include" | "add" | "insert" | "chain" | "set" | "map"
        ) {
            nft_words += 1;
            if matches!(first, "table" | "flush" | "define" | "include") {
                return InputFormat::Nftables;
            }
        }
    }
    if nft_words > 0 || path.ends_with(".nft") || path.ends_with("nftables.conf") {
        return InputFormat::Nftables;
    }
    match iptables::detect_family(path, text) {
        Family::Ipv4 => InputFormat::Iptables,
        Family::Ipv6 => InputFormat::Ip6tables,
    }
}

/// Parses text already in memory (includes are not followed).
pub fn parse_text(path: &str, text: &str, format: InputFormat) -> Input {
    let format = resolve(path, text, format);
    let parsed: Parsed = match format {
        InputFormat::Ufw => return ufw_of_text(path, text),
        InputFormat::Firewalld => return firewalld_of_text(path, text),
        InputFormat::Nftables => nft::parse_with(path, text, &|_: &str, p: &str| {
            Err(format!("cannot include `{p}` from text in memory"))
        }),
        InputFormat::NftJson => nft::parse_json(path, text),
        InputFormat::Pf => pf::parse_ruleset(path, text, &|_: &str, p: &str| {
            Err(format!("cannot include `{p}` from text in memory"))
        }),
        _ => iptables::parse(path, text, family_of(format)),
    };
    Input {
        path: path.to_string(),
        format,
        ruleset: parsed.ruleset,
        errors: parsed.errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart() {
        assert_eq!(
            detect("x", "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"),
            InputFormat::Iptables
        );
        assert_eq!(
            detect(
                "x",
                "#!/usr/sbin/nft -f\nflush ruleset\ntable inet f {\n}\n"
            ),
            InputFormat::Nftables
        );
        assert_eq!(detect("x", "{\"nftables\": []}"), InputFormat::NftJson);
        assert_eq!(detect("x", "add table ip f\n"), InputFormat::Nftables);
    }

    #[test]
    fn a_ufw_bundle_reads_back_file_by_file() {
        let files = ufw::Files {
            dir: "/etc/ufw".into(),
            ufw_conf: Some(("/etc/ufw/ufw.conf".into(), "ENABLED=yes\n@@ x 1 y\n".into())),
            user_rules: Some(("/etc/ufw/user.rules".into(), String::new())),
            ..ufw::Files::default()
        };
        let back = ufw_unbundle(&ufw_bundle(&files)).expect("a bundle");
        assert_eq!(back.dir, "/etc/ufw");
        assert_eq!(back.ufw_conf, files.ufw_conf);
        assert_eq!(back.user_rules, files.user_rules);
        assert_eq!(back.defaults, None);
        assert!(ufw_unbundle("*filter\nCOMMIT\n").is_none());
    }

    #[test]
    fn a_ufw_bundle_written_before_bundles_were_shared_still_reads() {
        // Byte for byte what the ufw-only writer made, as state files hold it.
        let old = "# driftwall: a ufw configuration, file by file\n@@ dir 0 /etc/ufw\n\n\
                   @@ ufw.conf 12 /etc/ufw/ufw.conf\nENABLED=yes\n\n";
        let back = ufw_unbundle(old).expect("a bundle");
        assert_eq!(back.dir, "/etc/ufw");
        assert_eq!(
            back.ufw_conf,
            Some(("/etc/ufw/ufw.conf".into(), "ENABLED=yes\n".into()))
        );
        // The shared writer makes the same text, so its hash (the state's) holds.
        assert_eq!(ufw_bundle(&back), old);
    }

    #[test]
    fn a_firewalld_bundle_reads_back_file_by_file() {
        let folder = |dir: &str| firewalld::Folder {
            dir: dir.into(),
            conf: Some((
                format!("{dir}/firewalld.conf"),
                "DefaultZone=public\n".into(),
            )),
            zones: vec![
                (
                    format!("{dir}/zones/a.xml"),
                    "<zone/>\n@@ zones 3 x\n".into(),
                ),
                (format!("{dir}/zones/b.xml"), "<zone>".into()),
            ],
            services: vec![(format!("{dir}/services/s.xml"), "<service/>".into())],
            direct: Some((format!("{dir}/direct.xml"), "<direct/>".into())),
            ..firewalld::Folder::default()
        };
        let files = firewalld::Files {
            user: folder("/etc/firewalld"),
            stock: Some(folder("/usr/lib/firewalld")),
        };
        let text = firewalld_bundle(&files);
        let back = firewalld_unbundle(&text).expect("a bundle");
        assert_eq!(format!("{:?}", back.user), format!("{:?}", files.user));
        assert_eq!(format!("{:?}", back.stock), format!("{:?}", files.stock));
        let builtin = firewalld::Files {
            user: folder("/etc/firewalld"),
            stock: None,
        };
        assert!(
            firewalld_unbundle(&firewalld_bundle(&builtin))
                .expect("a bundle")
                .stock
                .is_none()
        );
        assert!(firewalld_unbundle(&ufw_bundle(&ufw::Files::default())).is_none());
        // Parsed from the text alone, its errors name the files.
        let input = parse_text("/etc/firewalld", &text, InputFormat::Firewalld);
        assert!(
            input
                .errors
                .iter()
                .any(|e| e.path == "/etc/firewalld/zones/b.xml"),
            "{:?}",
            input.errors
        );
    }

    #[test]
    fn a_damaged_bundle_is_not_one() {
        let good = bundle(
            INCLUDES_HEADER,
            [("file", "/a", "x\n"), ("include", "/b", "y")],
        );
        assert_eq!(unbundle(INCLUDES_HEADER, &good).map(|f| f.len()), Some(2));
        for bad in [
            good.replace("@@ include 1", "@@ include 9"),
            good.replace("@@ include 1", "@@ include x"),
            good.replace("@@ include 1", "@@ include 99999999999999999999999"),
            format!("{good}trailing"),
            good.replacen("\n@@", "@@", 1),
        ] {
            assert!(unbundle(INCLUDES_HEADER, &bad).is_none(), "{bad:?}");
        }
        assert!(
            unbundle(UFW_HEADER, &good).is_none(),
            "each kind has its header"
        );
    }

    /// A scratch folder for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("driftwall-input-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        dir
    }

    /// The file and line of each rule of a ruleset, with its text.
    fn rules(input: &Input) -> Vec<(String, u32, String)> {
        let set = &input.ruleset;
        set.tables
            .iter()
            .flat_map(|t| &t.chains)
            .flat_map(|c| &c.rules)
            .map(|r| {
                let text = set.text(&r.span).trim().to_string();
                (set.path(&r.span).to_string(), r.span.line, text)
            })
            .collect()
    }

    const NFT_TOP: &str = "table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n  }\n}\ninclude \"rules.d/*.nft\"\n";

    #[test]
    fn a_bundle_keeps_what_the_includes_read_and_reads_back_from_itself() {
        let dir = scratch("bundle");
        let top = dir.join("nftables.conf");
        std::fs::create_dir_all(dir.join("rules.d")).unwrap();
        std::fs::write(&top, NFT_TOP).unwrap();
        std::fs::write(
            dir.join("rules.d/20-web.nft"),
            "add rule inet f input tcp dport 443 accept\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("rules.d/10-ssh.nft"),
            "\nadd rule inet f input tcp dport 22 accept\n",
        )
        .unwrap();
        let read = read_bundled(&top, InputFormat::Auto).expect("read");
        assert!(
            read.input.as_ref().expect("parsed").errors.is_empty(),
            "{:?}",
            read.input.as_ref().expect("parsed").errors
        );
        assert!(read.text.starts_with(INCLUDES_HEADER), "{}", read.text);
        assert_eq!(
            read.folders.iter().collect::<Vec<_>>(),
            [&dir.join("rules.d")]
        );
        let ssh = dir.join("rules.d/10-ssh.nft").display().to_string();
        let web = dir.join("rules.d/20-web.nft").display().to_string();
        let files = unbundle(INCLUDES_HEADER, &read.text).expect("a bundle");
        let slots: Vec<(&str, &str)> = files
            .iter()
            .map(|(s, p, _)| (s.as_str(), p.as_str()))
            .collect();
        let shown = top.display().to_string();
        assert_eq!(
            slots,
            [
                ("file", shown.as_str()),
                ("include", ssh.as_str()),
                ("include", web.as_str())
            ],
            "the top file, then the includes in the order nft reads them"
        );
        let then = rules(read.input.as_ref().expect("parsed"));
        assert!(
            then.iter()
                .any(|(f, l, t)| *f == ssh && *l == 2 && t.contains("dport 22")),
            "a rule of an included file names that file and its line: {then:?}"
        );
        // The disk changes: the bundle still reads as it was.
        std::fs::write(
            dir.join("rules.d/10-ssh.nft"),
            "add rule inet f input tcp dport 23 accept\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("rules.d/30-new.nft"),
            "add rule inet f input udp dport 53 accept\n",
        )
        .unwrap();
        std::fs::write(&top, "flush ruleset\n").unwrap();
        let kept = load_kept(&top, &read.text, InputFormat::Auto);
        assert!(kept.errors.is_empty(), "{:?}", kept.errors);
        assert_eq!(rules(&kept), then);
        // And reading the disk again makes another text.
        let now = read_bundled(&top, InputFormat::Auto).expect("read");
        assert_ne!(now.text, read.text);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_glob_that_gains_a_file_makes_another_text() {
        let dir = scratch("glob");
        let top = dir.join("nftables.conf");
        std::fs::write(&top, NFT_TOP).unwrap();
        // No folder yet: nft reads nothing, and that is kept too.
        let empty = read_bundled(&top, InputFormat::Auto).expect("read");
        assert!(
            empty.input.as_ref().expect("parsed").errors.is_empty(),
            "{:?}",
            empty.input.as_ref().expect("parsed").errors
        );
        assert!(empty.text.starts_with(INCLUDES_HEADER));
        assert!(
            empty.folders.contains(&dir.join("rules.d")),
            "{:?}",
            empty.folders
        );
        std::fs::create_dir_all(dir.join("rules.d")).unwrap();
        std::fs::write(
            dir.join("rules.d/a.nft"),
            "add rule inet f input tcp dport 22 accept\n",
        )
        .unwrap();
        let one = read_bundled(&top, InputFormat::Auto).expect("read");
        assert_ne!(one.text, empty.text);
        let none = rules(empty.input.as_ref().expect("parsed"));
        let added = dir.join("rules.d/a.nft").display().to_string();
        assert!(none.iter().all(|(f, _, _)| *f != added), "{none:?}");
        assert!(
            rules(one.input.as_ref().expect("parsed"))
                .iter()
                .any(|(f, _, _)| *f == added)
        );
        // The empty version reads back without it, whatever the folder holds now.
        assert_eq!(
            rules(&load_kept(&top, &empty.text, InputFormat::Auto)),
            none
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_without_includes_is_kept_as_it_is_and_old_texts_read_from_the_disk() {
        let dir = scratch("plain");
        let top = dir.join("pf.conf");
        let plain = "block in all\npass in proto tcp to port 22\n";
        std::fs::write(&top, plain).unwrap();
        let read = read_bundled(&top, InputFormat::Pf).expect("read");
        assert_eq!(
            read.text, plain,
            "the kept text (and its hash) as before bundles"
        );
        assert!(read.folders.is_empty());
        assert!(
            read.input.is_none(),
            "nothing to include: not parsed to find out"
        );
        // A state file from before bundles holds the top file's text alone:
        // its includes are read from the disk, as they were then.
        std::fs::write(dir.join("extra.conf"), "pass in proto tcp to port 80\n").unwrap();
        let old = "block in all\ninclude \"extra.conf\"\n";
        let input = load_kept(&top, old, InputFormat::Pf);
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        let extra = dir.join("extra.conf").display().to_string();
        assert!(
            rules(&input).iter().any(|(f, l, _)| *f == extra && *l == 1),
            "{:?}",
            rules(&input)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_path_a_bundle_cannot_hold_keeps_the_file_alone() {
        let dir = scratch("newline");
        let top = dir.join("pf\nconf");
        let text = "block in all\ninclude \"ssh.conf\"\n";
        std::fs::write(&top, text).unwrap();
        std::fs::write(dir.join("ssh.conf"), "pass in proto tcp to port 22\n").unwrap();
        let read = read_bundled(&top, InputFormat::Pf).expect("read");
        assert_eq!(read.text, text);
        let kept = load_kept(&top, &read.text, InputFormat::Pf);
        assert!(kept.errors.is_empty(), "{:?}", kept.errors);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn pf_include_and_load_anchor_are_kept_and_served_from_the_bundle() {
        let dir = scratch("pf");
        let top = dir.join("pf.conf");
        std::fs::create_dir_all(dir.join("pf.d")).unwrap();
        std::fs::create_dir_all(dir.join("anchors")).unwrap();
        let anchor = dir.join("anchors/web");
        std::fs::write(
            &top,
            format!(
                "block in all\ninclude \"{}\"\nanchor \"web\"\nload anchor \"web\" from \"{}\"\n",
                dir.join("pf.d/ssh.conf").display(),
                anchor.display()
            ),
        )
        .unwrap();
        std::fs::write(dir.join("pf.d/ssh.conf"), "pass in proto tcp to port 22\n").unwrap();
        std::fs::write(&anchor, "# web\npass in proto tcp to port 443\n").unwrap();
        let read = read_bundled(&top, InputFormat::Pf).expect("read");
        assert!(
            read.input.as_ref().expect("parsed").errors.is_empty(),
            "{:?}",
            read.input.as_ref().expect("parsed").errors
        );
        assert_eq!(
            read.folders.iter().collect::<Vec<_>>(),
            [&dir.join("anchors"), &dir.join("pf.d")]
        );
        std::fs::remove_file(&anchor).unwrap();
        let kept = load_kept(&top, &read.text, InputFormat::Pf);
        assert!(kept.errors.is_empty(), "{:?}", kept.errors);
        let shown = anchor.display().to_string();
        assert!(
            rules(&kept)
                .iter()
                .any(|(f, l, t)| *f == shown && *l == 2 && t.contains("443")),
            "{:?}",
            rules(&kept)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn globs_match_like_the_shell() {
        assert!(glob_match("*.nft", "a.nft") && !glob_match("*.nft", "a.conf"));
        assert!(glob_match("rule?.[0-9]", "rule1.5") && !glob_match("rule?.[!0-9]", "rule1.5"));
    }

    /// Issue 18: `include "dir/*/r.nft"` matched nothing, so the ruleset
    /// read as empty (everything open) while nft loads both files. As
    /// glob(3): a pattern in any part, no leading dot, sorted (checked
    /// against nft in a namespace).
    #[test]
    fn a_pattern_in_a_folder_name_is_expanded() {
        let root = std::env::temp_dir().join(format!("driftwall-glob-{}", std::process::id()));
        for d in ["d/y", "d/x", "d/.h", "d/f.nft"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in ["d/x/r.nft", "d/y/r.nft", "d/.h/r.nft", "d/x/other.nft"] {
            std::fs::write(root.join(f), "").unwrap();
        }
        let got = expand_glob(&root.join("d/*/r.nft")).unwrap();
        assert_eq!(got, vec![root.join("d/x/r.nft"), root.join("d/y/r.nft")]);
        // A folder is not a file to include.
        assert_eq!(
            expand_glob(&root.join("d/*.nft")).unwrap(),
            Vec::<std::path::PathBuf>::new()
        );
        assert_eq!(
            expand_glob(&root.join("d/.*/r.nft")).unwrap(),
            vec![root.join("d/.h/r.nft")]
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
