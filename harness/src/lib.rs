pub mod scenario;
pub mod run;
pub mod report;
pub mod logs;
