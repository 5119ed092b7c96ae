; umbra-args: -bios {bin} -no-reboot
; Virtual-8086 mode (SDM vol. 3A, chapter 20): entered by IRET with VM set
; from ring 0; real-mode style segments; IOPL-sensitive instructions and
; port I/O trap to a ring-0 #GP monitor that emulates them; INT n goes
; through a DPL-3 gate when IOPL = 3 and traps to #GP(0) when IOPL < 3;
; the ring-0 handler sees the v86 segment registers on its stack and null
; data segment registers.
%include "lib.inc"
%include "pm_lib.inc"

VM          equ 0x20000
V86_ES      equ 0x0500      ; v86 data at linear 0x5000
gp_count    equ scratch + 0x00
cli_count   equ scratch + 0x04
exit_how    equ scratch + 0x08   ; 1 = through the gate, 2 = through #GP
exit_ds     equ scratch + 0x0c
exit_cpl    equ scratch + 0x10
exit_fl     equ scratch + 0x14
exit_es     equ scratch + 0x18
exit_ss     equ scratch + 0x1c
exit_cs     equ scratch + 0x20
cont        equ scratch + 0x24

; Enter v86 at v86_code with EFLAGS = %1.
%macro ENTER_V86 1
    push dword 0            ; GS
    push dword 0            ; FS
    push dword 0xf000       ; DS
    push dword V86_ES       ; ES
    push dword 0x0a00       ; SS
    push dword 0x1000       ; ESP
    push dword %1
    push dword 0xf000
    push dword R(v86_code)
    iretd
%endmacro

main:
    PRINT "pm_v86", 10
    mov edi, IDT_BASE + 13 * 8
    mov eax, gp_monitor
    mov bx, 0x08
    mov ecx, 0x8e00
    call make_gate
    mov edi, IDT_BASE + 0x30 * 8
    mov eax, int30_entry
    mov ecx, 0xee00
    call make_gate

    ; ---- IOPL 3: CLI/STI run, OUT traps (no I/O bitmap), INT uses the gate ----
    mov dword [cont], .back1
    ENTER_V86 VM | 0x3002
.back1:
    CHECK_EQ "iopl3 exit", [exit_how], 1
    CHECK_EQ "iopl3 traps", [gp_count], 15
    CHECK_EQ "iopl3 cli traps", [cli_count], 0
    CHECK_EQ "handler ds", [exit_ds], 0
    CHECK_EQ "handler cpl", [exit_cpl], 0
    mov eax, [exit_fl]
    and eax, VM | 0x3000
    CHECK_EQ "frame vm iopl", eax, VM | 0x3000
    CHECK_EQ "frame es", [exit_es], V86_ES
    CHECK_EQ "frame ss", [exit_ss], 0x0a00
    CHECK_EQ "frame cs", [exit_cs], 0xf000
    movzx eax, word [0x5020]
    CHECK_EQ "v86 cs", eax, 0xf000
    movzx eax, word [0x5010]
    CHECK_EQ "v86 store", eax, 0xbeef
    movzx eax, word [0x5022]
    and eax, 0x3000
    CHECK_EQ "v86 pushf iopl", eax, 0x3000

    ; ---- IOPL 0: CLI, STI, OUT and INT all trap to the monitor ----
    mov dword [gp_count], 0
    mov dword [exit_how], 0
    mov word [0x5010], 0
    mov dword [cont], .back2
    ENTER_V86 VM | 0x0002
.back2:
    CHECK_EQ "iopl0 exit", [exit_how], 2
    CHECK_EQ "iopl0 traps", [gp_count], 19
    CHECK_EQ "iopl0 cli traps", [cli_count], 1
    movzx eax, word [0x5022]
    and eax, 0x3000
    CHECK_EQ "v86 pushf iopl", eax, 0
    movzx eax, word [0x5010]
    CHECK_EQ "v86 store", eax, 0xbeef
    mov eax, cs
    CHECK_EQ "pm cs", eax, 0x08
    jmp finish

; The v86 program (CS = 0xF000, IP = offset in the ROM).
bits 16
v86_code:
    mov ax, cs
    mov [es:0x20], ax
    mov word [es:0x10], 0xbeef
    mov si, R(msg)
.l: lodsb
    test al, al
    jz .d
    out 0xe9, al
    jmp .l
.d: cli
    sti
    pushf
    pop ax
    mov [es:0x22], ax
    int 0x30
.hang:
    jmp .hang
msg: db "hello from v86", 10, 0
bits 32

; INT 0x30 from v86 through the DPL-3 gate.
int30_entry:
    mov eax, ds
    mov [ss:exit_ds], eax
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov eax, cs
    and eax, 3
    mov [exit_cpl], eax
    mov eax, [esp + 4]
    mov [exit_cs], eax
    mov eax, [esp + 8]
    mov [exit_fl], eax
    mov eax, [esp + 16]
    mov [exit_ss], eax
    mov eax, [esp + 20]
    mov [exit_es], eax
    mov dword [exit_how], 1
    mov esp, STACK0_TOP
    jmp [cont]

; #GP monitor: emulates CLI, STI, PUSHF, OUT imm8 and INT 0x30 for v86
; code.
; Frame: err, EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS (+12 after pushes).
gp_monitor:
    push eax
    push ebx
    push ecx
    mov ax, 0x10
    mov ds, ax
    test dword [esp + 12 + 12], VM
    jz .unexpected
    inc dword [gp_count]
    movzx ebx, word [esp + 12 + 8]
    shl ebx, 4
    movzx ecx, word [esp + 12 + 4]
    add ebx, ecx
    mov cl, [ebx]
    cmp cl, 0xfa
    je .cli
    cmp cl, 0xfb
    je .sti
    cmp cl, 0xe6
    je .out
    cmp cl, 0x9c
    je .pushf
    cmp cl, 0xcd
    je .int
.unexpected:
    PRINT "unexpected #GP", 10
    EXIT 2
.cli:
    inc dword [cli_count]
    inc dword [esp + 12 + 4]
    jmp .ret
.sti:
    inc dword [esp + 12 + 4]
    jmp .ret
.pushf:
    movzx ebx, word [esp + 12 + 20]     ; SS
    shl ebx, 4
    mov ecx, [esp + 12 + 16]            ; SP
    sub cx, 2
    mov [esp + 12 + 16], ecx
    movzx ecx, cx
    mov eax, [esp + 12 + 12]
    mov [ebx + ecx], ax
    inc dword [esp + 12 + 4]
    jmp .ret
.out:
    cmp byte [ebx + 1], 0xe9
    jne .unexpected
    mov eax, [esp + 8]
    out 0xe9, al
    add dword [esp + 12 + 4], 2
    jmp .ret
.int:
    cmp byte [ebx + 1], 0x30
    jne .unexpected
    mov dword [exit_how], 2
    mov esp, STACK0_TOP
    mov ax, 0x10
    mov es, ax
    jmp [cont]
.ret:
    pop ecx
    pop ebx
    pop eax
    add esp, 4
    iretd

    ROM_END
