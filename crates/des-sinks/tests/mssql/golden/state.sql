-- state schema
CREATE SCHEMA [des_state]
GO
-- state table 0
IF OBJECT_ID(N'[des_state].[Watermark]', N'U') IS NULL CREATE TABLE [des_state].[Watermark] ([Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, [Seq] bigint NOT NULL, PRIMARY KEY ([Profile], [Table]))
GO
-- state table 1
IF OBJECT_ID(N'[des_state].[Tombstone]', N'U') IS NULL CREATE TABLE [des_state].[Tombstone] ([Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, [Id] uniqueidentifier NOT NULL, [Seq] bigint NOT NULL, PRIMARY KEY ([Profile], [Table], [Id]))
GO
-- state table 2
IF OBJECT_ID(N'[des_state].[ResyncSeen]', N'U') IS NULL CREATE TABLE [des_state].[ResyncSeen] ([Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, [FirstSeq] bigint NOT NULL, [Id] uniqueidentifier NOT NULL, PRIMARY KEY ([Profile], [Table], [FirstSeq], [Id]))
GO
-- state table 3
IF OBJECT_ID(N'[des_state].[Target]', N'U') IS NULL CREATE TABLE [des_state].[Target] ([Profile] uniqueidentifier NOT NULL PRIMARY KEY, [Token] nvarchar(64) NOT NULL)
GO
-- move the old layout's state
IF OBJECT_ID(N'[dbo].[crm_DesWatermark]', N'U') IS NOT NULL BEGIN INSERT INTO [des_state].[Watermark] ([Profile], [Table], [Seq]) SELECT CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier), [Table], [Seq] FROM [dbo].[crm_DesWatermark]; IF OBJECT_ID(N'[dbo].[crm_DesTombstone]', N'U') IS NOT NULL INSERT INTO [des_state].[Tombstone] ([Profile], [Table], [Id], [Seq]) SELECT CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier), [Table], [Id], [Seq] FROM [dbo].[crm_DesTombstone]; IF OBJECT_ID(N'[dbo].[crm_DesResyncSeen]', N'U') IS NOT NULL INSERT INTO [des_state].[ResyncSeen] ([Profile], [Table], [FirstSeq], [Id]) SELECT CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier), [Table], [FirstSeq], [Id] FROM [dbo].[crm_DesResyncSeen]; DROP TABLE IF EXISTS [dbo].[crm_DesWatermark], [dbo].[crm_DesTombstone], [dbo].[crm_DesResyncSeen]; END
GO
-- token read
SELECT [Token] FROM [des_state].[Target] WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier)
GO
-- token put
MERGE [des_state].[Target] WITH (HOLDLOCK) AS t USING (SELECT CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AS [Profile]) AS s ON t.[Profile] = s.[Profile] WHEN MATCHED THEN UPDATE SET [Token] = @P1 WHEN NOT MATCHED THEN INSERT ([Profile], [Token]) VALUES (s.[Profile], @P1);
GO
